"""The `critmin` command: build the demo, load real data, report what is loaded.

Every command prints a short summary, shows progress on long work and exits
non-zero with a one-line reason on failure.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from critmin import reference_tables
from critmin.fetch import all as fetch_all
from critmin.fetch import baci as fetch_baci
from critmin.fetch import census as fetch_census
from critmin.fetch import comext as fetch_comext
from critmin.fetch import comtrade as fetch_comtrade
from critmin.fetch import deposits as fetch_deposits
from critmin.fetch import usgs_mcs as fetch_usgs_mcs
from critmin.ingest import baci as ingest_baci
from critmin.ingest import census as ingest_census
from critmin.ingest import comext as ingest_comext
from critmin.ingest import comtrade as ingest_comtrade
from critmin.ingest import comtrade_monthly as ingest_comtrade_monthly
from critmin.ingest import deposits as ingest_deposits
from critmin.ingest import usgs_mcs as ingest_usgs_mcs
from critmin.ingest.common import excerpt
from critmin.settings import load_settings
from critmin.warehouse import Warehouse, WarehouseError


class UserError(Exception):
    """A failure the user can fix; printed as one line, exit status 1."""


def _data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir).resolve() if args.data_dir else load_settings().data_dir


def cmd_demo(args: argparse.Namespace) -> int:
    from critmin.demo import build_demo

    data_dir = _data_dir(args)
    warehouse = Warehouse(data_dir)
    if args.if_missing and warehouse.exists():
        print(f"Warehouse already present at {data_dir}; keeping it.")
        # A warehouse from an earlier version of critmin gets its derived tables here.
        return cmd_reindex(args)
    if args.if_missing and not args.data_dir and not load_settings().data_dir_is_default:
        # CRITMIN_DATA_DIR names a warehouse of the user's own: never fill it with the demo
        # unasked; the app explains what is missing.
        print(f"CRITMIN_DATA_DIR={data_dir} holds no warehouse; not building the demo there.")
        return 0
    if warehouse.exists() and not args.if_missing:
        sources = {
            row["source"] for row in warehouse.table_summary() if row["table"] == "trade_flows"
        }
        if sources - {"demo"} and not args.force:
            raise UserError(
                f"{data_dir} holds real trade data ({', '.join(sorted(sources))}); "
                "refusing to replace it with the demo. Use --force, or another --data-dir."
            )
    print(
        f"Building the demo warehouse in {data_dir} (synthetic trade flows, real reference data)..."
    )
    build_demo(data_dir)
    _print_status(Warehouse(data_dir))
    return 0


def _print_status(warehouse: Warehouse) -> None:
    rows = warehouse.table_summary()
    header = ("table", "part", "source", "release", "years", "rows", "built_at")
    widths = [
        max(len(str(r[h])) for r in [dict(zip(header, header, strict=True)), *rows]) for h in header
    ]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row[h]).ljust(w) for h, w in zip(header, widths, strict=True)))


def cmd_status(args: argparse.Namespace) -> int:
    warehouse = Warehouse(_data_dir(args))
    rows = warehouse.table_summary()
    problems = warehouse.check(verify_checksums=args.verify)
    from critmin import derive

    stale = derive.stale(warehouse)
    if args.json:
        print(
            json.dumps(
                {
                    "data_dir": str(warehouse.root),
                    "tables": rows,
                    "provenance": [p.__dict__ for p in warehouse.provenance()],
                    "problems": problems,
                    "stale": stale + reference_tables.outdated_in(warehouse),
                },
                indent=2,
            )
        )
    else:
        print(f"Warehouse: {warehouse.root}")
        _print_status(warehouse)
        for problem in problems:
            print(f"PROBLEM: {problem}")
        for line in stale:
            print(f"NOTE: {line}; `critmin reindex` rewrites it (pages are slower until then)")
        for line in reference_tables.outdated_in(warehouse):
            print(
                f"NOTE: {line}; `critmin reindex` brings this critmin's baskets, texts and events"
            )
    return 1 if problems else 0


def cmd_reindex(args: argparse.Namespace) -> int:
    from critmin import derive

    warehouse = Warehouse(_data_dir(args))
    warehouse.manifest()  # a clear error if there is no warehouse
    rewritten = reference_tables.refresh(warehouse)
    if rewritten:
        print("Reference tables rewritten from this critmin's bundled files:")
        for line in rewritten:
            print(f"  {line}")
    done = derive.reindex(warehouse, progress=lambda line: print(f"  {line}", flush=True))
    if done:
        print("Derived tables rewritten:")
        for line in done:
            print(f"  {line}")
    else:
        print("Derived tables are up to date.")
    return 0


class SourceModule(Protocol):
    """What every ingest and fetch module offers the command line."""

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, warehouse: Warehouse) -> int: ...


@dataclass(frozen=True)
class Source:
    name: str
    module: SourceModule
    help: str


# The commands' sources, in one table. Imported directly: a broken module fails loudly.
INGEST_SOURCES: tuple[Source, ...] = (
    Source("baci", ingest_baci, "a CEPII BACI release (zip, folder or yearly CSV)"),
    Source(
        "comtrade", ingest_comtrade, "UN Comtrade API JSON responses or Comtrade+ CSV downloads"
    ),
    Source(
        "comtrade-monthly",
        ingest_comtrade_monthly,
        "UN Comtrade monthly API JSON responses (C/M/HS) or Comtrade+ CSV downloads",
    ),
    Source("comext", ingest_comext, "Eurostat Comext monthly CN8: bulk .dat files or SDMX-CSV"),
    Source("census", ingest_census, "US Census international trade API JSON (monthly, HTS10)"),
    Source("usgs-mcs", ingest_usgs_mcs, "the USGS Mineral Commodity Summaries data release CSV"),
    Source(
        "deposits",
        ingest_deposits,
        "deposits, mines and plants (MRDS, USGS, Jasansky, generic CSV)",
    ),
)
FETCH_SOURCES: tuple[Source, ...] = (
    Source(
        "comtrade",
        fetch_comtrade,
        "UN Comtrade API, annual or --monthly (key optional)",
    ),
    Source(
        "comext",
        fetch_comext,
        "Eurostat Comext: EU trade with the C5 by CN8 line, monthly, with the ECB's rates",
    ),
    Source(
        "census",
        fetch_census,
        "US Census Bureau: US imports by HTS10 line and country, monthly (key optional)",
    ),
    Source("baci", fetch_baci, "download the latest CEPII BACI release from CEPII and load it"),
    Source(
        "usgs-mcs",
        fetch_usgs_mcs,
        "download the USGS MCS data release from ScienceBase and load it",
    ),
    Source("deposits", fetch_deposits, "download the USGS MRDS compilation and load it"),
    Source(
        "all",
        fetch_all,
        "download every source and load them together, or not at all (make real); --check first",
    ),
)


def _runner(module: SourceModule) -> Callable[[argparse.Namespace], int]:
    """Dispatch to module.run(args, warehouse) -> int."""

    def run(args: argparse.Namespace) -> int:
        return int(module.run(args, Warehouse(_data_dir(args))))

    return run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="critmin", description=__doc__)
    parser.add_argument(
        "--data-dir",
        help="warehouse directory (default: $CRITMIN_DATA_DIR or the embedded data/warehouse)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log details")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="build the embedded demo warehouse (offline)")
    demo.add_argument("--if-missing", action="store_true", help="do nothing if one exists")
    demo.add_argument("--force", action="store_true", help="replace real trade data too")
    demo.set_defaults(handler=cmd_demo)

    reindex = commands.add_parser(
        "reindex", help="rewrite the derived tables the pages read (after an upgrade)"
    )
    reindex.set_defaults(handler=cmd_reindex)

    status = commands.add_parser("status", help="what the warehouse holds")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--verify", action="store_true", help="re-compute every checksum")
    status.set_defaults(handler=cmd_status)

    ingest = commands.add_parser("ingest", help="load a source's public files")
    sources = ingest.add_subparsers(dest="source", required=True)
    for source in INGEST_SOURCES:
        sub = sources.add_parser(source.name, help=source.help)
        sub.add_argument("path", help="file or folder to load")
        sub.set_defaults(handler=_runner(source.module))
        source.module.add_arguments(sub)

    fetch = commands.add_parser(
        "fetch", help="download from a source's public site or API, then load it"
    )
    fetch_sources = fetch.add_subparsers(dest="source", required=True)
    for source in FETCH_SOURCES:
        sub = fetch_sources.add_parser(source.name, help=source.help)
        sub.set_defaults(handler=_runner(source.module))
        source.module.add_arguments(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        print("critmin: interrupted; the warehouse is unchanged.", file=sys.stderr)
        return 130
    except (UserError, WarehouseError, ValueError, OSError) as error:
        # One line, and a bounded one: a message may quote a file's content.
        print(f"critmin: {excerpt(str(error).replace(chr(10), ' '), 2000)}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
