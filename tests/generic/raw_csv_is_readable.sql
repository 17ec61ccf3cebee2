{#- Table-level test for a source read straight from a CSV file (dbt-duckdb external_location read_csv(...)).
    Runs before anything that selects from the source, and stops the build with a message naming the file:
      1. the file exists                       -> "raw file not found: <path>"
      2. the file has a header row             -> "raw file is empty (no header row): <path>"
      3. every column of the read_csv types={...} map is in the header (exact names; extra columns are fine)
                                               -> "<path> is missing required column(s) ...; found ..."
      4. every value of every required column parses as its declared type: the query below counts each
         column, which forces DuckDB to convert all of them, so a bad value fails here with DuckDB's
         "CSV Error on Line: N ... Error when converting column "x"" and the file path, instead of later
         in a staging model. A non-UTF-8 file fails the same way ("This file is not utf-8 encoded").
    The implementations live in macros/raw_csv_is_readable.sql (adapter.dispatch: DuckDB reads the files; on
    other adapters the sources are warehouse tables loaded by scripts/load_raw.py, which checks the files with the
    same messages; there the test checks the loaded table: it exists, with every typed column, each of its type family). -#}
{% test raw_csv_is_readable(model) %}
    {{ return(adapter.dispatch('test_raw_csv_is_readable')(model)) }}
{% endtest %}
