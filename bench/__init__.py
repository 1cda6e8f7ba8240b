"""Development tools, kept out of the installed package: they measure and load the
app, they are not part of it.

- `python -m bench`: the performance benchmark (`make bench`): a synthetic BACI-shaped
  warehouse (`critmin.synthetic`), the pages' view functions timed warm and cold on
  DuckDB, pandas and polars-lazy baselines, memory, ingest and app start-up;
- `bench.streamlit_client`: a client that speaks Streamlit's own websocket protocol, the
  one the browser frontend uses, so many sessions can be driven without browsers;
- `bench.capacity`: a load generator and memory-churn check built on that client;
- `bench.loadrun`: the browser load run (headless Chromium contexts), a smoke test;
- `bench.headless`: how the project launches Debian's Chromium.

Every tool refuses any URL that is not on the loopback interface.
"""
