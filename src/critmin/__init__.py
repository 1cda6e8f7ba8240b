"""critmin: an explorer of critical-minerals trade and deposits.

Data flow, one direction (the folder layout follows it):

    ingest/ (raw public files)  ->  warehouse (Parquet + manifest; derive.py adds
        the derived tables the pages read, in the same transaction)
        ->  db.py (DuckDB views, one connection, one cursor per running query)
        ->  queries/ (typed functions returning polars)  ->  ui/ + pages/
"""

__version__ = "0.1.0"
