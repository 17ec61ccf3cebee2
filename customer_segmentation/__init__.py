"""The project's Python library, imported by the dbt Python models and the command-line entry points in scripts/.

- ml: the logic of the dbt Python models (KMeans clusters, first-purchase repeat model, buy-till-you-die
  lifetime value and churn), their typed configs and the engine-neutral input readers;
- reports: the static HTML report pages rendered from the marts (scripts/render_reports.py);
- data: what the data files are (the Olist raw tables and their CSV file names), shared by the generator,
  the loaders, the benchmark and the tests.

dbt-duckdb finds the package through profiles.yml (module_paths: the project root); the scripts and the tests put
the project root on sys.path.
"""
