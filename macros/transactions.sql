{#- The input layout switch and the transactions layout (README "Any transaction export").
    Every check raises at parse or compile time, before any model is replaced, with a message naming the var,
    the file and the column. -#}


{#- var input_format, checked: 'olist' or 'transactions'. -#}
{% macro input_format() -%}
    {%- set value = var('input_format', 'olist') -%}
    {%- if value not in ['olist', 'transactions'] -%}
        {{ exceptions.raise_compiler_error(
            "unknown input_format '" ~ value ~ "': use 'olist' (the nine Olist CSV files in raw_data_dir) "
            ~ "or 'transactions' (one table of order lines in transactions_path, columns named by transactions_columns)"
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}


{#- var transactions_columns, checked: a map {project name: column of the file}. Returns it as a dict. -#}
{% macro transactions_columns() -%}
    {%- if var('input_format', 'olist') != 'transactions' -%}
        {#- the transactions models are disabled in the other layouts, but dbt still renders them at parse -#}
        {{ return({'customer_id': 'customer_id', 'ordered_at': 'ordered_at', 'amount': 'amount'}) }}
    {%- endif -%}
    {%- set mapping = var('transactions_columns', {}) -%}
    {%- set path = var('transactions_path', none) -%}
    {%- set where = " (var transactions_columns, file " ~ path ~ ")" -%}
    {%- set allowed = ['customer_id', 'ordered_at', 'amount', 'quantity', 'unit_price', 'order_id', 'product_id',
                       'product_category', 'region', 'city', 'status'] -%}
    {%- if not path -%}
        {{ exceptions.raise_compiler_error(
            "input_format is 'transactions' but var transactions_path is not set: name a CSV or Parquet file, or a glob of either"
        ) }}
    {%- endif -%}
    {%- if mapping is not mapping or mapping | length == 0 -%}
        {{ exceptions.raise_compiler_error(
            "var transactions_columns must map the project's names to the columns of " ~ path
            ~ ", e.g. {customer_id: CustomerID, ordered_at: InvoiceDate, quantity: Quantity, unit_price: UnitPrice}; got: "
            ~ mapping
        ) }}
    {%- endif -%}
    {%- for name, column in mapping.items() -%}
        {%- if name not in allowed -%}
            {{ exceptions.raise_compiler_error(
                "unknown key '" ~ name ~ "' in transactions_columns" ~ where ~ "; known keys: " ~ allowed | join(', ')
            ) }}
        {%- endif -%}
        {%- if column is none or column | string | trim == '' -%}
            {{ exceptions.raise_compiler_error("transactions_columns." ~ name ~ " names no column" ~ where) }}
        {%- endif -%}
    {%- endfor -%}
    {%- for name in ['customer_id', 'ordered_at'] if name not in mapping -%}
        {{ exceptions.raise_compiler_error("transactions_columns must map " ~ name ~ where) }}
    {%- endfor -%}
    {%- if 'amount' in mapping and 'unit_price' in mapping -%}
        {{ exceptions.raise_compiler_error(
            "transactions_columns maps both amount (" ~ mapping['amount'] ~ ") and unit_price (" ~ mapping['unit_price']
            ~ ")" ~ where ~ ": map either amount (the line's money) or quantity and unit_price, not both"
        ) }}
    {%- endif -%}
    {%- if 'amount' not in mapping and not ('quantity' in mapping and 'unit_price' in mapping) -%}
        {{ exceptions.raise_compiler_error(
            "transactions_columns maps neither amount nor both quantity and unit_price" ~ where
            ~ ": map amount (the line's money) or quantity and unit_price"
        ) }}
    {%- endif -%}
    {%- set seen = {} -%}
    {%- for name, column in mapping.items() -%}
        {%- if column in seen -%}
            {{ exceptions.raise_compiler_error(
                "transactions_columns names column '" ~ column ~ "' twice (as " ~ seen[column] ~ " and " ~ name ~ ")"
                ~ where ~ ": every project name needs its own column"
            ) }}
        {%- endif -%}
        {%- do seen.update({column: name}) -%}
    {%- endfor -%}
    {{ return(mapping) }}
{%- endmacro %}


{#- At execution: the file exists and has every mapped column (exact names). relation = the source. -#}
{% macro check_transactions_file(relation, mapping) -%}
    {%- if execute -%}
        {%- set path = var('transactions_path') -%}
        {%- set found_files = run_query("select count(*) from glob('" ~ path | replace("'", "''") ~ "')").columns[0].values()[0] -%}
        {%- if found_files == 0 -%}
            {{ exceptions.raise_compiler_error("transactions file not found: " ~ path ~ " (var transactions_path)") }}
        {%- endif -%}
        {%- set found = run_query("describe select * from " ~ relation).columns[0].values() | list -%}
        {%- set missing = [] -%}
        {%- for name, column in mapping.items() if column not in found -%}
            {%- do missing.append("'" ~ column ~ "' (mapped as " ~ name ~ ")") -%}
        {%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                "transactions file " ~ path ~ " has no column " ~ missing | join(', ')
                ~ ". Found: " ~ found | join(', ') ~ ". Fix var transactions_columns (names are case-sensitive)."
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- At execution: the share of ordered_at values that do not parse stays within data_quality_thresholds.error_rate
    (a wrong transactions_timestamp_format fails here, naming file, column and an example; fewer bad values are
    excluded and counted as transactions_unparseable_lines). -#}
{% macro check_transactions_timestamps(relation, mapping) -%}
    {%- if execute -%}
        {%- set text = transactions_text(mapping['ordered_at']) -%}
        {%- set result = run_query(
            "select count(*), count(" ~ text ~ "), count(case when " ~ text ~ " is not null and "
            ~ transactions_timestamp(mapping['ordered_at']) ~ " is null then 1 end), "
            ~ "min(case when " ~ text ~ " is not null and " ~ transactions_timestamp(mapping['ordered_at'])
            ~ " is null then " ~ text ~ " end) from " ~ relation
        ) -%}
        {%- set row = result.rows[0] -%}
        {%- set rows, bad, example = row[0], row[2], row[3] -%}
        {%- if bad > 0 and bad > rows * var('data_quality_thresholds')['error_rate'] -%}
            {%- set fmt = var('transactions_timestamp_format', none) -%}
            {{ exceptions.raise_compiler_error(
                "transactions file " ~ var('transactions_path') ~ ": " ~ bad ~ " of " ~ rows ~ " values of column '"
                ~ mapping['ordered_at'] ~ "' (ordered_at) do not parse "
                ~ ("with transactions_timestamp_format '" ~ fmt ~ "'" if fmt else "as ISO timestamps or dates (set transactions_timestamp_format, e.g. '%Y%m%d')")
                ~ ", e.g. '" ~ example ~ "'"
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- A mapped column as trimmed text (null when empty), whatever its type in the file. -#}
{% macro transactions_text(column) -%}
    nullif(trim(cast({{ adapter.quote(column) }} as {{ dbt.type_string() }})), '')
{%- endmacro %}


{#- A mapped column parsed as a number (null when it does not parse). -#}
{% macro transactions_number(column) -%}
    try_cast({{ transactions_text(column) }} as decimal(18, 4))
{%- endmacro %}


{#- ordered_at parsed with var transactions_timestamp_format, or as an ISO timestamp or date (null when it does not parse). -#}
{% macro transactions_timestamp(column) -%}
    {%- set fmt = var('transactions_timestamp_format', none) -%}
    {%- if fmt -%}
        try_strptime({{ transactions_text(column) }}, '{{ fmt | replace("'", "''") }}')
    {%- else -%}
        try_cast({{ transactions_text(column) }} as timestamp)
    {%- endif -%}
{%- endmacro %}
