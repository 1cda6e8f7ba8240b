"""`critmin fetch ...`: download each source's public release and load it.

- `download.py`: the one download core every fetcher uses (HTTP retries with back-off,
  resumable `.part` files, progress on stderr, size and integrity checks, a cache that
  never downloads a verified file twice, clear errors for full or read-only folders).
- `baci.py`, `usgs_mcs.py`, `deposits.py`: one source each; they find the release,
  download and check it, then hand it to the matching `critmin.ingest` module.
- `all.py`: every source in one run, loaded into a staging copy of the warehouse that is
  swapped in only when the steps succeeded.

UN Comtrade's API fetcher lives beside its ingest (`critmin.ingest.comtrade_fetch`) and
uses the same HTTP session.
"""
