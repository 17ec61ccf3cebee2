"""What the raw data files are: the Olist tables and their CSV file names (olist.py), shared by the generator,
the loaders, the benchmark and the tests."""
