{#- The Net Promoter Score from counts (SQL expressions): 100 x (promoters - detractors)
    / NPS answers, from -100 to 100; null without answers. The one place the formula is
    written; the counts come from the flags of int_survey_responses_linked. -#}
{% macro net_promoter_score(promoters, detractors, answers) -%}
    100.0 * (({{ promoters }}) - ({{ detractors }})) / nullif({{ answers }}, 0)
{%- endmacro %}
