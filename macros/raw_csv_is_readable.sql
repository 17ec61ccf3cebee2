{#- Implementations of the generic test raw_csv_is_readable (tests/generic/raw_csv_is_readable.sql). -#}

{#- Engines whose sources are warehouse tables (PostgreSQL, Spark: loaded by scripts/load_raw.py, which checks the
    files themselves with the messages of the DuckDB implementation below). Checked here on the loaded table:
      1. the table exists                      -> "raw table not found: <relation> ... load it with scripts/load_raw.py"
      2. every column the DuckDB source types (the read_csv types={...} of the source's external_location) is a
         column of the table                   -> "<relation> is missing required column(s) ...; found ..."
      3. each has the type family of its declared type (text, integer, decimal, double, timestamp)
                                               -> "<relation> column <c> is <type>, the source declares <type>"
    then counts every required column, like the DuckDB implementation (returns no rows). -#}
{% macro default__test_raw_csv_is_readable(model) %}
    {%- set required = [] -%}
    {%- if execute -%}
        {%- set source_node = raw_source_node(model) -%}
        {%- set location = source_node.config.meta.get('external_location') or source_node.meta.get('external_location') or '' -%}
        {%- set types_match = modules.re.search("types\s*=\s*\{([^}]*)\}", location) -%}
        {%- if not types_match -%}
            {{ exceptions.raise_compiler_error(
                "raw_csv_is_readable expects the source " ~ source_node.source_name ~ "." ~ source_node.name
                ~ " to declare its columns in external_location read_csv(..., types={...}); got: " ~ location
            ) }}
        {%- endif -%}
        {%- set declared = {} -%}
        {%- for column, type in modules.re.findall("'([^']+)'\s*:\s*'([^']*)'", types_match.group(1)) -%}
            {%- do required.append(column) -%}
            {%- do declared.update({column: type | lower}) -%}
        {%- endfor -%}
        {%- set relation = adapter.get_relation(database=model.database, schema=model.schema, identifier=model.identifier) -%}
        {%- if relation is none -%}
            {{ exceptions.raise_compiler_error(
                "raw table not found: " ~ model ~ " (on " ~ target.type ~ " the sources are warehouse tables, not CSV files: "
                ~ "load them with python scripts/load_raw.py --target " ~ target.type ~ " --raw-dir " ~ var('raw_data_dir')
                ~ "; see README 'Other engines')"
            ) }}
        {%- endif -%}
        {%- set found_columns = adapter.get_columns_in_relation(relation) -%}
        {%- set found = {} -%}
        {%- for column in found_columns -%}
            {%- do found.update({column.name | lower: column}) -%}
        {%- endfor -%}
        {%- set missing = [] -%}
        {%- for column in required if column | lower not in found -%}
            {%- do missing.append(column) -%}
        {%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                model ~ " is missing required column(s): " ~ missing | join(', ')
                ~ ". Found: " ~ found_columns | map(attribute='name') | join(', ')
                ~ ". Load the raw tables with scripts/load_raw.py (column names as in the Kaggle export)."
            ) }}
        {%- endif -%}
        {%- for column in required -%}
            {%- set want = raw_type_family(declared[column]) -%}
            {%- set got = raw_type_family(found[column | lower].data_type | lower) -%}
            {%- if want != got -%}
                {{ exceptions.raise_compiler_error(
                    model ~ " column " ~ column ~ " is " ~ found[column | lower].data_type ~ ", the source declares "
                    ~ declared[column] ~ " (reload the table with scripts/load_raw.py)"
                ) }}
            {%- endif -%}
        {%- endfor -%}
    {%- endif %}

{{ raw_columns_counted(model, required) }}
{% endmacro %}


{#- The source node (graph.sources) that a source relation of a test renders from. -#}
{% macro raw_source_node(model) %}
    {%- for node in graph.sources.values() -%}
        {%- if node.identifier | lower == model.identifier | lower and node.schema | lower == model.schema | lower -%}
            {{ return(node) }}
        {%- endif -%}
    {%- endfor -%}
    {{ exceptions.raise_compiler_error("raw_csv_is_readable: no source renders as " ~ model) }}
{% endmacro %}


{#- A type name reduced to what loading must preserve: text, integer, decimal, double, timestamp (or the name). -#}
{% macro raw_type_family(type_name) %}
    {%- set t = type_name | lower | trim -%}
    {%- if t in ['varchar', 'text', 'string'] or t.startswith('character') or t.startswith('varchar') -%}
        {{ return('text') }}
    {%- elif t in ['integer', 'int', 'int4', 'bigint', 'int8', 'smallint', 'int2'] -%}
        {{ return('integer') }}
    {%- elif t.startswith('decimal') or t.startswith('numeric') -%}
        {{ return('decimal') }}
    {%- elif t in ['double', 'double precision', 'float8'] -%}
        {{ return('double') }}
    {%- elif t.startswith('timestamp') -%}
        {{ return('timestamp') }}
    {%- endif -%}
    {{ return(t) }}
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

{{ raw_columns_counted(model, required) }}
{% endmacro %}


{#- The query of both implementations: returns no rows; counting every column forces each value to be converted to
    its declared type (every count is used by the filter, so no optimizer can drop a column from the scan). -#}
{% macro raw_columns_counted(model, required) %}
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
