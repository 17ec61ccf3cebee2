{#-
    The pieces every int_quality__<table> model repeats (data_quality_exclusions unions those models). Each model
    counts its raw table (table_rows) and what staging kept of it (staging_rows) with quality_counts, names its
    rules in a CTE `rules`, and ends with quality_rule_rows: the same columns in the same order and types in every
    model, so the mart is a plain union.
-#}


{#- Rows of a CTE and, for a table that carries money, the sum of value_expression over them (0 for no rows);
    null for a table without money. The body of a one-row CTE: row_count, row_value. -#}
{% macro quality_counts(cte, value_expression=none) -%}
    select
        count(*) as row_count,
        {% if value_expression -%}
        coalesce(sum({{ value_expression }}), 0)
        {%- else -%}
        cast(null as {{ dbt.type_numeric() }})
        {%- endif %} as row_value
    from {{ cte }}
{%- endmacro %}


{#- The rule <table_name>_exact_duplicate_rows: rows of the raw file (CTE table_rows) that staging collapsed into an
    identical row (CTE staging_rows), and their money. The body of a one-row CTE in the columns of a rule. -#}
{% macro quality_exact_duplicates(table_name) -%}
    select
        '{{ table_name }}_exact_duplicate_rows' as rule_name,
        '{{ table_name }}' as table_name,
        'deduplicated' as outcome,
        table_rows.row_count - staging_rows.row_count as affected_rows,
        table_rows.row_value - staging_rows.row_value as affected_value,
        'Rows identical to another row of the same file (after trimming ids): kept once.' as rule_description
    from table_rows
    cross join staging_rows
{%- endmacro %}


{#- The rows of data_quality_exclusions from the CTE `rules` (rule_name, table_name, outcome, affected_rows,
    affected_value, rule_description [, affected_orders when with_orders]) of one raw table, whose size is the
    one-row CTE table_rows: the rate against that size, and the mart's columns in its order and types. -#}
{% macro quality_rule_rows(with_orders=false) -%}
    select
        rules.rule_name,
        rules.table_name,
        rules.outcome,
        rules.rule_description,
        table_rows.row_count as table_rows,
        cast(rules.affected_rows as {{ dbt.type_bigint() }}) as affected_rows,
        case
            when table_rows.row_count = 0 then cast(0 as {{ type_double() }})
            else cast(rules.affected_rows as {{ type_double() }}) / table_rows.row_count
        end as affected_rate,
        cast(rules.affected_value as {{ dbt.type_numeric() }}) as affected_value,
        cast({{ 'rules.affected_orders' if with_orders else 'null' }} as {{ dbt.type_bigint() }}) as affected_orders
    from rules
    cross join table_rows
{%- endmacro %}
