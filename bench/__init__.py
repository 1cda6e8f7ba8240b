"""Development tools, kept out of the installed package: they measure and load the app.

- `python -m bench` (`make bench`): every page's view warm and cold on a synthetic
  BACI-shaped warehouse, `critmin ingest baci` on a full-size year, and every page in
  headless Chromium (`bench.browser`);
- `bench.capacity`: many users at once under Locust, each a `bench.session` tab speaking
  Streamlit's own websocket protocol (no browser);
- `bench.headless`: how the tests and the benchmark serve the app and launch Chromium.

Every tool refuses any URL that is not on the loopback interface.
"""
