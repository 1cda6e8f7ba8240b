"""`critmin fetch ...`: download each source's public release and load it.

- `http.py`: polite HTTP every fetcher shares (pacing per host, a User-Agent naming
  critmin and its version, retries honouring Retry-After on 429/403/503, refusals and
  browser checks turned into messages that say how to get the file by hand).
- `download.py`: files on top of it (cache first, resumable `.part` files, progress on
  stderr, size and integrity checks, clear errors for full or read-only folders), and
  the per-file answer of `--check`.
- `baci.py`, `usgs_mcs.py`, `deposits.py`, `comtrade.py`: one source each; they find the
  release, download and check it, then hand it to the matching `critmin.ingest` module.
  (fetch/ imports ingest/, never the other way.)
- `all.py`: every source in one run, loaded in one batch of the warehouse's transaction
  that commits only when the steps succeeded.
"""
