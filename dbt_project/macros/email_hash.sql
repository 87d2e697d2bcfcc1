{#- Salted SHA-256 of an email, trimmed and lower-cased: the only form in which an email
    may reach a mart. The salt is the secret env var CXW_EMAIL_SALT (never in code or
    logs); null emails stay null. -#}
{% macro email_hash(email_column) -%}
    case
        when {{ email_column }} is not null
            then {{ sha256(dbt.concat(["'" ~ env_var('CXW_EMAIL_SALT', '') | replace("'", "''") ~ "'", "lower(trim(" ~ email_column ~ "))"])) }}
    end
{%- endmacro %}
