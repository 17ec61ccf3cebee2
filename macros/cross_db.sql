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


{#- Placed between a CTE's name and "as (": asks the engine to inline the CTE into each query that reads it
    instead of materializing it once. DuckDB materializes a CTE read more than once; for segment_snapshots'
    ~90 M customer-months that meant spilling ~39 GB to disk at a 4 GB cap (117-181 s at 10 M orders) where
    recomputing the cheap range join in each reader took 59 s without spilling. PostgreSQL 12+ has the same
    syntax; elsewhere it renders nothing and the engine decides. -#}
{% macro cte_inlined() -%}
    {{ return(adapter.dispatch('cte_inlined')()) }}
{%- endmacro %}

{% macro default__cte_inlined() -%}
    {{ return('') }}
{%- endmacro %}

{% macro duckdb__cte_inlined() -%}
    {{ return('not materialized') }}
{%- endmacro %}

{% macro postgres__cte_inlined() -%}
    {{ return('not materialized') }}
{%- endmacro %}


{#- The opposite, for PostgreSQL only: evaluate the CTE once. PostgreSQL 12+ inlines a CTE read once; inlined, the
    one-row `fallback` of int_churn__btyd_backtest_states became a correlated subplan evaluated per joined row
    (the model ran > 5 min on the 3,000-customer sample instead of milliseconds). DuckDB and Spark render
    nothing (unchanged SQL). -#}
{% macro cte_materialized() -%}
    {{ return(adapter.dispatch('cte_materialized')()) }}
{%- endmacro %}

{% macro default__cte_materialized() -%}
    {{ return('') }}
{%- endmacro %}

{% macro postgres__cte_materialized() -%}
    {{ return('materialized') }}
{%- endmacro %}


{#- Text of a double rounded to `digits` decimal places, spelled as DuckDB casts a double to text: the shortest
    digits that read back as the same double, ".0" on whole numbers, an exponent below 1e-4 ("5e-05"). DuckDB
    renders the expression itself; PostgreSQL has no round(double precision, integer) and prints whole doubles
    without ".0", so it rounds as numeric and appends the ".0". -#}
{% macro rounded_text(expr, digits) -%}
    {{ return(adapter.dispatch('rounded_text')(expr, digits)) }}
{%- endmacro %}

{% macro default__rounded_text(expr, digits) -%}
    cast(round({{ expr }}, {{ digits }}) as {{ dbt.type_string() }})
{%- endmacro %}

{% macro postgres__rounded_text(expr, digits) -%}
    {%- set text -%}
        cast(cast(round(cast({{ expr }} as numeric), {{ digits }}) as double precision) as text)
    {%- endset -%}
    (case when {{ text }} ~ '^-?[0-9]+$' then {{ text }} || '.0' else {{ text }} end)
{%- endmacro %}


{#- A string literal of `text`, its quotes escaped as the engine wants them: doubled on DuckDB and PostgreSQL,
    backslash-escaped on Spark (where 'a''b' is two adjacent literals, "ab"). dbt.escape_single_quotes
    dispatches per adapter. -#}
{% macro sql_string(text) -%}
    '{{ dbt.escape_single_quotes(text) }}'
{%- endmacro %}


{#- numerator / denominator for decimal operands, in double precision on every engine. DuckDB and PostgreSQL
    divide decimals exactly enough (DuckDB in double); Spark's decimal division keeps 6 decimal places once the
    precision runs out (decimal(38, 2) / decimal(38, 2) -> decimal(38, 6)), so shares lost their digits there. -#}
{% macro decimal_ratio(numerator, denominator) -%}
    {{ return(adapter.dispatch('decimal_ratio')(numerator, denominator)) }}
{%- endmacro %}

{% macro default__decimal_ratio(numerator, denominator) -%}
    {{ numerator }} / {{ denominator }}
{%- endmacro %}

{% macro spark__decimal_ratio(numerator, denominator) -%}
    cast({{ numerator }} as double) / cast({{ denominator }} as double)
{%- endmacro %}


{#- A floating-point probability as customers are grouped by it: rounded to 12 decimal places. The engines differ in
    the last bits of exp, ln and power, so customers who share a probability on DuckDB could fall into two groups
    on Spark (and move a tie-aware ROC AUC); at 12 places they share it on every engine, and no probability the
    backtest compares is changed by more than 5e-13. PostgreSQL rounds as numeric (it has no round(double, int)). -#}
{% macro grouping_probability(expr) -%}
    {{ return(adapter.dispatch('grouping_probability')(expr)) }}
{%- endmacro %}

{% macro default__grouping_probability(expr) -%}
    round({{ expr }}, 12)
{%- endmacro %}

{% macro postgres__grouping_probability(expr) -%}
    cast(round(cast({{ expr }} as numeric), 12) as double precision)
{%- endmacro %}


{#- Aggregates: each of `values` taken from the group's row with the largest `keys` (a list of SQL expressions
    compared in order, the first deciding; negate one for "smallest first"). Returns a list of SQL expressions, one
    per value, in order. The keys must identify one row per group (no ties); a value may be null (it is returned as
    it is, like the top row of a window). DuckDB arg_max_null (arg_max would skip rows whose value is null) and
    Spark max_by keep one running pair per group; PostgreSQL has neither and takes the first element of the group's
    values ordered by the keys. On DuckDB this replaced a row_number() window over every order item joined back to
    the orders: int_order_items__by_order at 10 M orders 108 s -> 61 s (same rows). Several values on DuckDB are one
    arg_max_null of a struct of them, each value a struct_extract of that same aggregate, which DuckDB computes once
    per group (its plan shows one arg_max_null): three values at 10 M orders ~40 s -> ~30 s. -#}
{% macro values_at_max(values, keys) -%}
    {{ return(adapter.dispatch('values_at_max')(values, keys)) }}
{%- endmacro %}

{#- values_at_max's list: `template` with `{value}` replaced by each of `values`, in order. -#}
{% macro _each_value(values, template) -%}
    {%- set expressions = [] -%}
    {%- for value in values -%}
        {%- do expressions.append(template | replace('{value}', value)) -%}
    {%- endfor -%}
    {{ return(expressions) }}
{%- endmacro %}

{% macro default__values_at_max(values, keys) -%}
    {{ return(_each_value(values, '(array_agg({value} order by ' ~ (keys | join(' desc, ')) ~ ' desc))[1]')) }}
{%- endmacro %}

{% macro duckdb__values_at_max(values, keys) -%}
    {%- set key = '(' ~ (keys | join(', ')) ~ ')' -%}
    {%- if values | length == 1 -%}
        {{ return(['arg_max_null(' ~ values[0] ~ ', ' ~ key ~ ')']) }}
    {%- endif -%}
    {%- set fields = [] -%}
    {%- for value in values -%}
        {%- do fields.append('v' ~ loop.index ~ ' := ' ~ value) -%}
    {%- endfor -%}
    {%- set aggregate = 'arg_max_null(struct_pack(' ~ (fields | join(', ')) ~ '), ' ~ key ~ ')' -%}
    {%- set expressions = [] -%}
    {%- for value in values -%}
        {%- do expressions.append('struct_extract(' ~ aggregate ~ ", 'v" ~ loop.index ~ "')") -%}
    {%- endfor -%}
    {{ return(expressions) }}
{%- endmacro %}

{% macro spark__values_at_max(values, keys) -%}
    {{ return(_each_value(values, 'max_by({value}, struct(' ~ (keys | join(', ')) ~ '))')) }}
{%- endmacro %}

{#- values_at_max of one value: one SQL expression. -#}
{% macro value_at_max(value, keys) -%}
    {{ return(values_at_max([value], keys)[0]) }}
{%- endmacro %}
