{#- Implementations of the generic test raw_csv_is_readable (tests/generic/raw_csv_is_readable.sql). -#}

{% macro default__test_raw_csv_is_readable(model) %}
select 1 as problem
where 1 = 0
{% endmacro %}

{% macro duckdb__test_raw_csv_is_readable(model) %}
    {%- set required = [] -%}
    {%- if execute -%}
        {#- at execution, model renders as the source's external location: read_csv('<file>', ..., types={...}) -#}
        {%- set relation_sql = model | string -%}
        {%- set path_match = modules.re.search("read_csv\(\s*'([^']+)'", relation_sql) -%}
        {%- set types_match = modules.re.search("types\s*=\s*\{([^}]*)\}", relation_sql) -%}
        {%- if not path_match or not types_match -%}
            {{ exceptions.raise_compiler_error(
                "raw_csv_is_readable expects a source read with read_csv('<file>', ..., types={...}); got: " ~ relation_sql
            ) }}
        {%- endif -%}
        {%- set path = path_match.group(1) -%}
        {%- for column in modules.re.findall("'([^']+)'\s*:\s*'[^']*'", types_match.group(1)) -%}
            {%- do required.append(column) -%}
        {%- endfor -%}

        {%- set found_files = run_query("select count(*) from glob('" ~ path | replace("'", "''") ~ "')").columns[0].values()[0] -%}
        {%- if found_files == 0 -%}
            {{ exceptions.raise_compiler_error(
                "raw file not found: " ~ path ~ " (var raw_data_dir = '" ~ var('raw_data_dir') ~ "'). "
                ~ "The folder must hold the nine Olist CSV files under their Kaggle names; see README 'Bringing your own data'."
            ) }}
        {%- endif -%}
        {#- read the header only, every column as text, with the source's own options (delimiter, quote, encoding) -#}
        {%- if 'all_varchar' in relation_sql -%}
            {%- set header_sql = modules.re.sub(",\s*types\s*=\s*\{[^}]*\}", "", relation_sql) -%}
        {%- else -%}
            {%- set header_sql = modules.re.sub("types\s*=\s*\{[^}]*\}", "all_varchar=true", relation_sql) -%}
        {%- endif -%}
        {%- set header = run_query("describe select * from " ~ header_sql) -%}
        {%- set found = header.columns[0].values() | list -%}
        {%- if found == ['column0'] and 'column0' not in required -%}
            {{ exceptions.raise_compiler_error("raw file is empty (no header row): " ~ path) }}
        {%- endif -%}
        {%- set missing = [] -%}
        {%- for column in required if column not in found -%}
            {%- do missing.append(column) -%}
        {%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                path ~ " is missing required column(s): " ~ missing | join(', ')
                ~ ". Found: " ~ found | join(', ')
                ~ ". Header names must match the Kaggle export exactly (a renamed column counts as missing; extra columns are ignored)."
            ) }}
        {%- endif -%}
    {%- endif %}

-- returns no rows; counting every column forces each value to be converted to its declared type (every count is
-- used by the filter, so no optimizer can drop a column from the scan)
select *
from (
    select
        count(*) as row_count
        {%- for column in required %},
        count({{ adapter.quote(column) }}) as {{ adapter.quote('non_null_' ~ column) }}
        {%- endfor %}
    from {{ model }}
) as parsed
where row_count < 0
    {%- for column in required %}
    or {{ adapter.quote('non_null_' ~ column) }} < 0
    {%- endfor %}
{% endmacro %}
