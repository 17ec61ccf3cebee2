{#- Helpers of the hypothesis models (models/marts/hypotheses). The statistics are in macros/stats.sql and
    macros/normal_distribution.sql; statements, the seed's figures and grain notes in seeds/hypothesis_catalog.csv.
    Every threshold is a var (hypothesis_* in dbt_project.yml). -#}


{#- True when the city is one of var hypothesis_large_cities (city names are lower-cased in staging). -#}
{% macro is_large_city(city_expr) -%}
    coalesce({{ city_expr }} in ({{ quoted_list(var('hypothesis_large_cities')) }}), false)
{%- endmacro %}


{#- The label of the large-city group in H01 and H17. -#}
{% macro large_city_label() -%}
    {{ return('large city (' ~ var('hypothesis_large_cities') | join(', ') ~ ')') }}
{%- endmacro %}


{#- The columns every hypothesis model starts with; `compared` (macros/stats.sql, result_cte) follows. -#}
{% macro hypothesis_header(hypothesis_id, grain, metric) -%}
    cast('{{ hypothesis_id }}' as {{ dbt.type_string() }}) as hypothesis_id,
        cast('{{ grain }}' as {{ dbt.type_string() }}) as grain,
        cast({{ sql_string(metric) }} as {{ dbt.type_string() }}) as metric
{%- endmacro %}
