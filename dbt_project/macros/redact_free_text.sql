{#- Free text (survey comments, ticket subjects) on its way to anything a BI user reads:
    every email, card-like number and phone number replaced by a fixed mask, the rest of
    the text kept (marts.md, "Definitions that hold everywhere"). The one place these
    patterns live; apply it where the text first enters the warehouse (staging) so no
    later model ever sees the raw text.
    - email: local part, @, a dotted domain ending in 2+ letters
    - card: 13-19 digits, optionally split by single spaces or hyphens (before phones,
      which would otherwise take them)
    - phone: 7+ digits, with + ( ) - . or spaces between them
    Syntax kept to what DuckDB (RE2) and PostgreSQL (ARE) share; 'g' replaces them all. -#}
{% macro redact_free_text(expression) -%}
    regexp_replace(
        regexp_replace(
            regexp_replace(
                {{ expression }},
                '[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+[.][A-Za-z]{2,}', '[email]', 'g'
            ),
            '[0-9]([ -]?[0-9]){12,18}', '[card]', 'g'
        ),
        '[+]?[(]?[0-9]([ ().-]{0,2}[0-9]){6,}', '[phone]', 'g'
    )
{%- endmacro %}
