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


{#- At execution: the file exists and has every mapped column (exact names). relation = the source.
    On the other engines (targets postgres, spark) the source is the table scripts/load_raw.py loaded from the file. -#}
{% macro check_transactions_file(relation, mapping) -%}
    {%- if execute -%}
        {%- set found = transactions_source_columns(relation) -%}
        {%- set missing = [] -%}
        {%- for name, column in mapping.items() if column not in found -%}
            {%- do missing.append("'" ~ column ~ "' (mapped as " ~ name ~ ")") -%}
        {%- endfor -%}
        {%- if missing -%}
            {{ exceptions.raise_compiler_error(
                "transactions file " ~ var('transactions_path') ~ " has no column " ~ missing | join(', ')
                ~ ". Found: " ~ found | join(', ') ~ ". Fix var transactions_columns (names are case-sensitive)."
            ) }}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}


{#- The column names of the transactions source, or a compile error when it is missing. -#}
{% macro transactions_source_columns(relation) -%}
    {{ return(adapter.dispatch('transactions_source_columns')(relation)) }}
{%- endmacro %}

{% macro duckdb__transactions_source_columns(relation) -%}
    {%- set path = var('transactions_path') -%}
    {%- set found_files = run_query("select count(*) from glob('" ~ path | replace("'", "''") ~ "')").columns[0].values()[0] -%}
    {%- if found_files == 0 -%}
        {{ exceptions.raise_compiler_error("transactions file not found: " ~ path ~ " (var transactions_path)") }}
    {%- endif -%}
    {{ return(run_query("describe select * from " ~ relation).columns[0].values() | list) }}
{%- endmacro %}

{% macro default__transactions_source_columns(relation) -%}
    {%- set table = adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- if table is none -%}
        {{ exceptions.raise_compiler_error(
            "transactions table not found: " ~ relation ~ " (target " ~ target.name ~ "). Load it from var transactions_path ("
            ~ var('transactions_path') ~ ") with: python scripts/load_raw.py --target " ~ target.name
            ~ " --input-format transactions --transactions-path <file or glob>"
        ) }}
    {%- endif -%}
    {{ return(adapter.get_columns_in_relation(table) | map(attribute='name') | list) }}
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
    {{ trimmed_text(adapter.quote(column)) }}
{%- endmacro %}

{#- An expression as trimmed text, null when empty. -#}
{% macro trimmed_text(expr) -%}
    nullif(trim(cast({{ expr }} as {{ dbt.type_string() }})), '')
{%- endmacro %}


{#- A mapped column parsed as a number (null when it does not parse). DuckDB and Spark have try_cast; PostgreSQL
    casts only text that looks like a number and fits decimal(18, 4) (DuckDB's try_cast also reads "1_000"; no other
    engine does). -#}
{% macro transactions_number(column) -%}
    {{ parsed_decimal(transactions_text(column)) }}
{%- endmacro %}

{#- A text expression parsed as decimal(18, 4), null when it does not parse. -#}
{% macro parsed_decimal(text) -%}
    {{ return(adapter.dispatch('parsed_decimal')(text)) }}
{%- endmacro %}

{% macro default__parsed_decimal(text) -%}
    try_cast({{ text }} as decimal(18, 4))
{%- endmacro %}

{% macro postgres__parsed_decimal(text) -%}
    (case
        when not {{ text }} ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$' then null
        when abs(cast({{ text }} as numeric)) >= 1e14 then null
        else cast({{ text }} as decimal(18, 4))
    end)
{%- endmacro %}


{#- ordered_at parsed with var transactions_timestamp_format (or the strptime format `fmt`), or as an ISO timestamp
    or date when it is null (null when the text does not parse). DuckDB: try_strptime / try_cast. Spark: try_to_timestamp with the format spelled as a Java pattern /
    try_cast. PostgreSQL has no try-cast: the text must match the format's pattern and its fields must make a real
    date and time (month 1-12, a day of that month, hour < 24, minute and second < 60), else null. On Spark and
    PostgreSQL the format may use %Y %m %d %H %M %S and %%; another directive stops the compile, naming it. -#}
{% macro transactions_timestamp(column) -%}
    {{ parsed_timestamp(transactions_text(column), var('transactions_timestamp_format', none)) }}
{%- endmacro %}

{#- A text expression parsed with the strptime format `fmt` (none = ISO), null when it does not parse. -#}
{% macro parsed_timestamp(text, fmt) -%}
    {{ return(adapter.dispatch('parsed_timestamp')(text, fmt)) }}
{%- endmacro %}

{% macro default__parsed_timestamp(text, fmt) -%}
    {%- if fmt -%}
        try_strptime({{ text }}, '{{ fmt | replace("'", "''") }}')
    {%- else -%}
        try_cast({{ text }} as timestamp)
    {%- endif -%}
{%- endmacro %}

{% macro spark__parsed_timestamp(text, fmt) -%}
    {%- if fmt -%}
        {%- set java = {'Y': ['y', 'yyyy'], 'm': ['M', 'MM'], 'd': ['d', 'dd'], 'H': ['H', 'HH'], 'M': ['m', 'mm'], 'S': ['s', 's' ~ 's']} -%}
        {%- set pattern = [] -%}
        {%- set tokens = strptime_tokens(fmt) -%}
        {%- for kind, value in tokens -%}
            {%- if kind == 'field' -%}
                {#- a field next to another field has a fixed width (e.g. %Y%m%d: Java parses adjacent values only
                    when every one has a fixed width); else 1 or 2 digits -#}
                {%- set fixed = (not loop.last and tokens[loop.index0 + 1][0] == 'field')
                    or (not loop.first and tokens[loop.index0 - 1][0] == 'field') -%}
                {%- do pattern.append(java[value][1 if fixed else 0]) -%}
            {%- else -%}
                {#- literal text, quoted as Java patterns quote it -#}
                {%- do pattern.append("'" ~ value | replace("'", "''") ~ "'") -%}
            {%- endif -%}
        {%- endfor -%}
        try_to_timestamp({{ text }}, {{ sql_string(pattern | join('')) }})
    {%- else -%}
        try_cast({{ text }} as timestamp)
    {%- endif -%}
{%- endmacro %}

{% macro postgres__parsed_timestamp(text, fmt) -%}
    {%- if fmt -%}
        {%- set regex = [] -%}
        {%- set groups = {} -%}
        {%- set tokens = strptime_tokens(fmt) -%}
        {%- for kind, value in tokens -%}
            {%- if kind == 'field' -%}
                {%- set fixed = not loop.last and tokens[loop.index0 + 1][0] == 'field' -%}
                {%- do regex.append('([0-9]{' ~ (('4' if value == 'Y' else '2') if fixed else ('1,4' if value == 'Y' else '1,2')) ~ '})') -%}
                {%- do groups.update({value: groups | length + 1}) -%}
            {%- else -%}
                {%- for char in value -%}
                    {#- each literal character as itself: letters, digits and blanks plain, ^ and \ escaped, others in brackets -#}
                    {%- if char.isalnum() or char == ' ' -%}
                        {%- do regex.append(char) -%}
                    {%- elif char in '^\\' -%}
                        {%- do regex.append('\\' ~ char) -%}
                    {%- else -%}
                        {%- do regex.append('[' ~ char ~ ']') -%}
                    {%- endif -%}
                {%- endfor -%}
            {%- endif -%}
        {%- endfor -%}
        {%- set pattern = ('^' ~ regex | join('') ~ '$') | replace("'", "''") -%}
        {%- set parts = {} -%}
        {%- for field in ['Y', 'm', 'd', 'H', 'M', 'S'] -%}
            {%- do parts.update({field: ("cast((regexp_match(" ~ text ~ ", '" ~ pattern ~ "'))[" ~ groups[field] ~ "] as integer)") if field in groups else ('1' if field in 'md' else '0')}) -%}
        {%- endfor -%}
        {%- for field in ['Y', 'm', 'd'] if field not in groups -%}
            {{ exceptions.raise_compiler_error(
                "transactions_timestamp_format '" ~ fmt ~ "' has no %" ~ field ~ ": on " ~ target.type
                ~ " the format must give the year, month and day (%Y, %m, %d)"
            ) }}
        {%- endfor -%}
        {{ postgres_checked_timestamp(text ~ " ~ '" ~ pattern ~ "'", parts['Y'], parts['m'], parts['d'], parts['H'], parts['M'], parts['S']) }}
    {%- else -%}
        {%- set pattern = '^([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})([ T]([0-9]{1,2}):([0-9]{1,2})(:([0-9]{1,2})([.][0-9]{1,6})?)?)?$' -%}
        {%- set part = "(regexp_match(" ~ text ~ ", '" ~ pattern ~ "'))" -%}
        {{ postgres_checked_timestamp(
            text ~ " ~ '" ~ pattern ~ "'",
            "cast(" ~ part ~ "[1] as integer)", "cast(" ~ part ~ "[2] as integer)", "cast(" ~ part ~ "[3] as integer)",
            "cast(coalesce(" ~ part ~ "[5], '0') as integer)", "cast(coalesce(" ~ part ~ "[6], '0') as integer)",
            "cast(coalesce(" ~ part ~ "[8], '0') as integer) + cast(coalesce('0' || " ~ part ~ "[9], '0') as double precision)"
        ) }}
    {%- endif -%}
{%- endmacro %}


{#- PostgreSQL: a timestamp from its fields, or null unless `matches` and the fields make a real date and time.
    A searched case evaluates its conditions in order, so make_date/make_timestamp never see an invalid field. -#}
{% macro postgres_checked_timestamp(matches, year, month, day, hour, minute, second) -%}
    (case
        when not ({{ matches }}) then null
        when not ({{ year }} between 1 and 9999 and {{ month }} between 1 and 12 and {{ day }} >= 1
            and {{ hour }} between 0 and 23 and {{ minute }} between 0 and 59 and {{ second }} >= 0 and {{ second }} < 60) then null
        when {{ day }} > extract(day from make_date({{ year }}, {{ month }}, 1) + interval '1 month' - interval '1 day') then null
        else make_timestamp({{ year }}, {{ month }}, {{ day }}, {{ hour }}, {{ minute }}, {{ second }})
    end)
{%- endmacro %}


{#- A strptime format as tokens: ('field', 'Y'|'m'|'d'|'H'|'M'|'S') and ('text', literal). Spark and PostgreSQL
    only: another directive stops the compile, naming the var and the directive. -#}
{% macro strptime_tokens(fmt) -%}
    {%- set tokens = [] -%}
    {%- set state = namespace(percent=false, text='') -%}
    {%- for char in fmt -%}
        {%- if state.percent -%}
            {%- set state.percent = false -%}
            {%- if char == '%' -%}
                {%- set state.text = state.text ~ '%' -%}
            {%- elif char in 'YmdHMS' -%}
                {%- if state.text -%}{%- do tokens.append(('text', state.text)) -%}{%- set state.text = '' -%}{%- endif -%}
                {%- do tokens.append(('field', char)) -%}
            {%- else -%}
                {{ exceptions.raise_compiler_error(
                    "transactions_timestamp_format '" ~ fmt ~ "': directive %" ~ char ~ " is read on DuckDB only; on "
                    ~ target.type ~ " use %Y %m %d %H %M %S (and %%), or ISO timestamps with transactions_timestamp_format: null"
                ) }}
            {%- endif -%}
        {%- elif char == '%' -%}
            {%- set state.percent = true -%}
        {%- else -%}
            {%- set state.text = state.text ~ char -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if state.text -%}{%- do tokens.append(('text', state.text)) -%}{%- endif -%}
    {{ return(tokens) }}
{%- endmacro %}
