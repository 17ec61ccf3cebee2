{#- Cross-database helpers: anything whose SQL differs between adapters is dispatched here. -#}


{#- A double-precision float. (dbt.type_float() renders "float", a 4-byte REAL on DuckDB.) -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    {{ return('double precision') }}
{%- endmacro %}

{% macro spark__type_double() -%}
    {{ return('double') }}
{%- endmacro %}

{% macro bigquery__type_double() -%}
    {{ return('float64') }}
{%- endmacro %}
