{#- The transactions layout's parsing (macros parsed_timestamp, parsed_decimal) gives the stated value
    on every engine: DuckDB (try_strptime / try_cast), Spark (try_to_timestamp / try_cast) and PostgreSQL (pattern
    and field checks). Each case is a text, a strptime format (null = ISO) and the value a reader of the README
    expects, written out by hand; a row is returned for every case parsed otherwise. Runs in every build, whatever
    the input layout: the cases are literals. Values the engines read differently are listed in the README
    ("Other engines"), not here. -#}
{%- set timestamp_cases = [
    ('1/5/2011 8:26', '%m/%d/%Y %H:%M', '2011-01-05 08:26:00'),
    ('12/31/2010 23:59', '%m/%d/%Y %H:%M', '2010-12-31 23:59:00'),
    ('01/05/2011 08:26', '%m/%d/%Y %H:%M', '2011-01-05 08:26:00'),
    ('2/29/2012 0:00', '%m/%d/%Y %H:%M', '2012-02-29 00:00:00'),
    ('2/30/2011 10:00', '%m/%d/%Y %H:%M', none),
    ('2/29/2011 10:00', '%m/%d/%Y %H:%M', none),
    ('13/1/2011 10:00', '%m/%d/%Y %H:%M', none),
    ('1/5/2011 24:00', '%m/%d/%Y %H:%M', none),
    ('1/5/2011 8:60', '%m/%d/%Y %H:%M', none),
    ('2011-01-05', '%m/%d/%Y %H:%M', none),
    ('garbage', '%m/%d/%Y %H:%M', none),
    ('19970101', '%Y%m%d', '1997-01-01 00:00:00'),
    ('19971231', '%Y%m%d', '1997-12-31 00:00:00'),
    ('19970230', '%Y%m%d', none),
    ('19971301', '%Y%m%d', none),
    ('1997-01-01', '%Y%m%d', none),
    ('05.01.2011 08:26:59', '%d.%m.%Y %H:%M:%S', '2011-01-05 08:26:59'),
    ('05-01-2011 08:26:59', '%d.%m.%Y %H:%M:%S', none),
    ('2011-01-05T08:26', '%Y-%m-%dT%H:%M', '2011-01-05 08:26:00'),
    ('2011-01-05', none, '2011-01-05 00:00:00'),
    ('2011-1-5', none, '2011-01-05 00:00:00'),
    ('2011-01-05 08:26', none, '2011-01-05 08:26:00'),
    ('2011-01-05 8:26', none, '2011-01-05 08:26:00'),
    ('2011-01-05T08:26:00', none, '2011-01-05 08:26:00'),
    ('2011-01-05 08:26:00.123456', none, '2011-01-05 08:26:00.123456'),
    ('2011-01-05 08:26:00.5', none, '2011-01-05 08:26:00.5'),
    ('2011-02-30', none, none),
    ('2011-01-05 25:00', none, none),
    ('20110105', none, none),
    ('1/5/2011', none, none),
    ('garbage', none, none),
    ('  2011-01-05  ', none, '2011-01-05 00:00:00'),
    ('', none, none),
] -%}
{%- set number_cases = [
    ('12.5', '12.5'), ('-3', '-3'), ('+5', '5'), ('.5', '0.5'), ('5.', '5'), ('1e3', '1000'), ('1.5E-2', '0.015'),
    ('1.23456', '1.2346'), ('-0.00005', '-0.0001'), ('0.00015', '0.0002'), ('99999999999999.9999', '99999999999999.9999'),
    ('1,5', none), ('abc', none), ('', none), ('  7  ', '7'),
] -%}

with

timestamp_cases as (

    {%- for text, fmt, expected in timestamp_cases %}
    select
        {{ sql_string(text) }} as case_text,
        {{ sql_string(fmt or 'ISO') }} as case_format,
        {{ parsed_timestamp(trimmed_text(sql_string(text)), fmt) }} as parsed,
        {% if expected -%}
        cast({{ sql_string(expected) }} as timestamp)
        {%- else -%}
        cast(null as timestamp)
        {%- endif %} as expected
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

number_cases as (

    {%- for text, expected in number_cases %}
    select
        {{ sql_string(text) }} as case_text,
        {{ parsed_decimal(trimmed_text(sql_string(text))) }} as parsed,
        {% if expected -%}
        cast({{ sql_string(expected) }} as decimal(18, 4))
        {%- else -%}
        cast(null as decimal(18, 4))
        {%- endif %} as expected
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select
        'timestamp ' || case_format as parser,
        case_text,
        cast(parsed as {{ dbt.type_string() }}) as parsed,
        cast(expected as {{ dbt.type_string() }}) as expected
    from timestamp_cases
    where parsed is distinct from expected

    union all

    select
        'number' as parser,
        case_text,
        cast(parsed as {{ dbt.type_string() }}) as parsed,
        cast(expected as {{ dbt.type_string() }}) as expected
    from number_cases
    where parsed is distinct from expected

)

select * from final
