"""The performance benchmark: a synthetic BACI-shaped warehouse, page-query timings
(warm and cold) on DuckDB, pandas and polars-lazy baselines, memory, ingest and app
start-up. Run it with `python -m critmin.bench` (or `make bench`)."""
