"""Ingestion: public source formats -> clean warehouse tables.

One module per source; each exposes `add_arguments(parser)` and
`run(args, warehouse) -> int` for the `critmin` command, writes through a
`Warehouse.transaction()` (staged, validated, swapped in atomically) and records
a `Provenance` per file. Nothing here imports Streamlit.
"""
