{#- One test per model for its column rules (issue 19: each single-column test paid a query and dbt's bookkeeping).
    Arguments (all optional; each rule may carry its own `where`, a filter on the rows it checks, like a test's
    `where` config):
      not_null:        [column, ...]  or  {column: c, where: sql}                          -> c is null
      ranges:          {column: {min_value, max_value, inclusive (default true), where}}    -> as accepted_range:
                       a non-null value below min_value or above max_value (either bound optional); nulls pass
      accepted_values: {column: [value, ...]}  or  {column: {values: [...], quote (default true), where}}
                       -> as dbt's accepted_values: a value not in the list; nulls pass
      expressions:     [sql, ...]  or  {expression: sql, where: sql}                       -> as expression_is_true:
                       a row where the expression is not true (null fails)
      unique:          [column, [column, ...], ...]  or  {column: c | columns: [...], where: sql}
                       -> a key (one column, or a list: a compound key) that occurs in more than one row. A
                       single column as dbt's unique (nulls left out: not_null rules check those); a compound
                       key as unique_combination_of_columns (group by: a null is a value like any other, so
                       two rows (x, null) are duplicates). Its failing_rows_where uses `in`, which never
                       matches a null: rows of a repeated compound key that holds a null are counted but not
                       selected by it (group by the key columns to see them).
    The model is read once for the row rules (one count per rule), plus one grouped read per unique key.
    The test returns one row per failing rule: rule (not_null, accepted_range, accepted_values, expression_is_true,
    unique), column_name (null for an expression; a compound key's columns joined by ", "), failing_rows (for
    unique: the rows whose key occurs more than once), and failing_rows_where, the filter that selects the
    offending rows: select * from <model> where <failing_rows_where>.
    dbt reports the number of failing rules ("Got 2 results"); dbt build --store-failures keeps these rows. -#}
{% test columns_valid(model, not_null=[], ranges={}, accepted_values={}, expressions=[], unique=[]) %}
{%- set rules = [] -%}
{%- for item in not_null -%}
    {%- set spec = {'column': item} if item is string else item -%}
    {%- do rules.append({'rule': 'not_null', 'column': spec['column'], 'where': spec.get('where'),
        'condition': spec['column'] ~ ' is null'}) -%}
{%- endfor -%}
{%- for column, spec in ranges.items() -%}
    {%- set bounds = [] -%}
    {%- if spec.get('min_value') is not none -%}
        {%- do bounds.append(column ~ (' < ' if spec.get('inclusive', true) else ' <= ') ~ spec['min_value']) -%}
    {%- endif -%}
    {%- if spec.get('max_value') is not none -%}
        {%- do bounds.append(column ~ (' > ' if spec.get('inclusive', true) else ' >= ') ~ spec['max_value']) -%}
    {%- endif -%}
    {%- if not bounds -%}
        {{ exceptions.raise_compiler_error("columns_valid on " ~ model ~ ": range of " ~ column ~ " has neither min_value nor max_value") }}
    {%- endif -%}
    {%- do rules.append({'rule': 'accepted_range', 'column': column, 'where': spec.get('where'),
        'condition': column ~ ' is not null and (' ~ bounds | join(' or ') ~ ')'}) -%}
{%- endfor -%}
{%- for column, spec in accepted_values.items() -%}
    {%- set spec = {'values': spec} if spec is sequence and spec is not mapping else spec -%}
    {%- set literals = [] -%}
    {%- for value in spec['values'] -%}
        {%- do literals.append("'" ~ value ~ "'" if spec.get('quote', true) else value | string) -%}
    {%- endfor -%}
    {%- do rules.append({'rule': 'accepted_values', 'column': column, 'where': spec.get('where'),
        'condition': column ~ ' not in (' ~ literals | join(', ') ~ ')'}) -%}
{%- endfor -%}
{%- for item in expressions -%}
    {%- set spec = {'expression': item} if item is string else item -%}
    {%- do rules.append({'rule': 'expression_is_true', 'column': none, 'where': spec.get('where'),
        'condition': 'not coalesce((' ~ spec['expression'] | trim ~ '), false)'}) -%}
{%- endfor -%}
{%- for item in unique -%}
    {%- if item is string -%}
        {%- set spec = {'columns': [item]} -%}
    {%- elif item is mapping -%}
        {%- set spec = {'columns': [item['column']] if item.get('column') else item.get('columns', []),
            'where': item.get('where')} -%}
    {%- else -%}
        {%- set spec = {'columns': item} -%}
    {%- endif -%}
    {%- if not spec['columns'] -%}
        {{ exceptions.raise_compiler_error("columns_valid on " ~ model ~ ": a unique rule names no column") }}
    {%- endif -%}
    {%- set key = spec['columns'] | join(', ') -%}
    {%- set key_filter = [] -%}
    {%- if spec['columns'] | length == 1 -%}
        {%- do key_filter.append(key ~ ' is not null') -%}
    {%- endif -%}
    {%- if spec.get('where') -%}
        {%- do key_filter.append('(' ~ spec['where'] ~ ')') -%}
    {%- endif -%}
    {%- do rules.append({'rule': 'unique', 'column': key, 'where': spec.get('where'),
        'key_filter': key_filter | join(' and '),
        'condition': ('(' ~ key ~ ')' if spec['columns'] | length > 1 else key) ~ ' in (select ' ~ key ~ ' from '
            ~ model ~ (' where ' ~ key_filter | join(' and ') if key_filter else '') ~ ' group by ' ~ key
            ~ ' having count(*) > 1)'}) -%}
{%- endfor -%}
{%- if not rules -%}
    {{ exceptions.raise_compiler_error("columns_valid on " ~ model ~ " has no rules") }}
{%- endif %}

{%- for rule in rules -%}
    {%- do rule.update({'number': loop.index}) -%}
{%- endfor -%}
{%- set row_rules = rules | rejectattr('rule', 'equalto', 'unique') | list -%}
{%- set key_rules = rules | selectattr('rule', 'equalto', 'unique') | list %}

with
{%- if row_rules %}

rule_counts as (

    select
        {%- for rule in row_rules %}
        count(case when {% if rule['where'] %}({{ rule['where'] }}) and {% endif %}({{ rule['condition'] }}) then 1 end)
            as rule_{{ rule['number'] }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ model }}

),
{%- endif %}
{%- for rule in key_rules %}

rule_{{ rule['number'] }}_keys as (

    -- the rows of each key that occurs more than once
    select coalesce(sum(key_rows), 0) as failing_rows
    from (
        select count(*) as key_rows
        from {{ model }}
        {%- if rule['key_filter'] %}
        where {{ rule['key_filter'] }}
        {%- endif %}
        group by {{ rule['column'] }}
        having count(*) > 1
    ) as duplicated_keys

),
{%- endfor %}

rules as (
    {%- for rule in rules %}
    {%- set failing_where = ('(' ~ rule['where'] ~ ') and ' if rule['where'] else '') ~ '(' ~ rule['condition'] ~ ')' %}

    select
        {{ loop.index }} as rule_number,
        cast('{{ rule['rule'] }}' as {{ dbt.type_string() }}) as rule,
        cast({{ "'" ~ rule['column'] ~ "'" if rule['column'] else 'null' }} as {{ dbt.type_string() }}) as column_name,
        cast('{{ dbt.escape_single_quotes(failing_where | replace('\n', ' ')) }}' as {{ dbt.type_string() }}) as failing_rows_where
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

rule_results as (

    select
        rules.rule,
        rules.column_name,
        case rules.rule_number
            {%- for rule in rules %}
            when {{ rule['number'] }} then
                {%- if rule['rule'] == 'unique' %} rule_{{ rule['number'] }}_keys.failing_rows
                {%- else %} rule_counts.rule_{{ rule['number'] }}{% endif %}
            {%- endfor %}
        end as failing_rows,
        rules.failing_rows_where
    from rules
    {%- if row_rules %}
    cross join rule_counts
    {%- endif %}
    {%- for rule in key_rules %}
    cross join rule_{{ rule['number'] }}_keys
    {%- endfor %}

),

final as (

    select *
    from rule_results
    where failing_rows > 0

)

select * from final

{% endtest %}
