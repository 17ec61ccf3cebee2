{#- Render a list var as SQL string literals: ['a', "b"] -> 'a', 'b' (for use inside in (...)). -#}
{% macro quoted_list(values) -%}
    {%- for value in values -%}
        '{{ value | replace("'", "''") }}'{{ ", " if not loop.last }}
    {%- endfor -%}
{%- endmacro %}
