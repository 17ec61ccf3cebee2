{#- Spark (dbt-spark, session mode) overrides of dbt macros whose dbt-spark versions do not work here.
    Project macros named <adapter>__<name> take precedence over the adapter's in dbt's dispatch. -#}


{#- dbt.dateadd: dbt-spark goes through to_unix_timestamp(...), which returned null for every row with the
    timestamp_ntz columns of this project (analysis_date was null). timestampadd keeps the value's calendar
    fields, like DuckDB's date + interval. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, cast({{ interval }} as int), {{ from_date_or_timestamp }})
{%- endmacro %}


{#- dbt.datediff: the number of datepart boundaries between the two values, as DuckDB's date_diff counts them
    (a day boundary is midnight, a week boundary a Monday; month, quarter and year by calendar), so
    datediff('month', '2018-01-31', '2018-02-01') = 1. Finer parts: whole units elapsed. -#}
{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- set part = datepart | lower -%}
    {%- if part == 'day' -%}
        datediff(cast({{ second_date }} as date), cast({{ first_date }} as date))
    {%- elif part == 'week' -%}
        (floor(datediff(cast({{ second_date }} as date), date'1970-01-05') / 7)
            - floor(datediff(cast({{ first_date }} as date), date'1970-01-05') / 7))
    {%- elif part == 'month' -%}
        ((year({{ second_date }}) * 12 + month({{ second_date }})) - (year({{ first_date }}) * 12 + month({{ first_date }})))
    {%- elif part == 'quarter' -%}
        ((year({{ second_date }}) * 4 + quarter({{ second_date }})) - (year({{ first_date }}) * 4 + quarter({{ first_date }})))
    {%- elif part == 'year' -%}
        (year({{ second_date }}) - year({{ first_date }}))
    {%- else -%}
        timestampdiff({{ datepart }}, {{ first_date }}, {{ second_date }})
    {%- endif -%}
{%- endmacro %}


{#- Seeds: dbt-spark's session mode pastes each value between quotes without escaping them, so a seed value
    holding a quote ("Olist's") broke the insert. Values are written here as escaped literals instead. -#}
{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true -%}
        true
    {%- elif value is sameas false -%}
        false
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}'
    {%- endif -%}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set batch_size = get_batch_size() -%}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(batch_size) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                    {%- set type = column_override.get(col_name, inferred_type) -%}
                    cast({{ spark_seed_literal(row[loop.index0]) }} as {{ type }})
                    {%- if not loop.last %},{% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 -%}
            {%- do statements.append(sql) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}


{#- dbt.generate_series: dbt's portable version multiplies by power(2, i), a double on Spark, so the numbers
    came out as 13.0 ("hours 13.0-19.0" in H09); sequence() gives integers. -#}
{% macro spark__generate_series(upper_bound) -%}
    select explode(sequence(1, {{ upper_bound }})) as generated_number
{%- endmacro %}
