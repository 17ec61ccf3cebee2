{#- Render a list var as SQL string literals: ['a', "b"] -> 'a', 'b' (for use inside in (...)). -#}
{% macro quoted_list(values) -%}
    {%- for value in values -%}
        {{ sql_string(value) }}{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
