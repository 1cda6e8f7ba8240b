"""Build `data/embedded/`: the real USGS production and deposit data of the embedded default.

    .venv/bin/python scripts/build_embedded_data.py [--shared-data DIR] [--out DIR]

The shared data folder defaults to `$CRITMIN_SHARED_DATA`, else `../shared/data` beside the
checkout. The script runs critmin's own ingests on the public files into a temporary
warehouse, exactly as a user would:

    critmin ingest usgs-mcs production/usgs_mcs2026_commodities_data.csv
    critmin ingest deposits deposits/minmod_world_deposits_flat.csv --format minmod

and writes the two resulting parts as compact Parquet (`production.parquet`,
`deposits.parquet`) with `provenance.json` (see critmin.embedded for the layout). Of the
MinMod world file only the rows of the USGS compilations (public domain, published on
mrdata.usgs.gov) are kept: the file also repackages academic and Canadian data sets whose
terms are not public domain. Output is deterministic: two runs with the pinned libraries
of requirements.lock give byte-identical files (no build time is stored).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import logging
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from critmin import cli, sources
from critmin.embedded import EMBEDDED_DIR, PARTS, PROVENANCE_FILE, EmbeddedPart
from critmin.schema import TABLES, validate_frame
from critmin.warehouse import Provenance, Warehouse, file_sha256

log = logging.getLogger("build_embedded_data")

REPO = Path(__file__).resolve().parents[1]
MCS_FILE = Path("production/usgs_mcs2026_commodities_data.csv")
MINMOD_FILE = Path("deposits/minmod_world_deposits_flat.csv")

# The release's CSV as USGS publishes it (the shared copy is byte-identical but renamed),
# and the data release's landing page (DOI, confirmed in its metadata record
# https://data.usgs.gov/datacatalog/metadata/USGS.69837e43b66b01367d7ec7c7.xml), both from
# ingest/sources/usgs_mcs.toml.
MCS_RELEASE = sources.source("usgs_mcs").release("MCS2026")
MCS_PUBLISHED_NAME = MCS_RELEASE["main_file"]
MCS_URL = f"https://doi.org/{MCS_RELEASE['doi']}"

# Rows of the MinMod file whose data set is a USGS compilation on mrdata.usgs.gov are
# public domain. The others (Mudd and Jowitt grade-tonnage sets from journal articles,
# Jowitt's REE and lithium compilations, the GSC tin-tungsten open file) are left out:
# their terms do not allow redistribution as public domain data.
PUBLIC_DOMAIN_URL_PREFIX = "https://mrdata.usgs.gov/"
MINMOD = sources.source("deposits_minmod")
USGS_LICENCE = MINMOD.extra["embedded"]["licence"]
USGS_URL = MINMOD.extra["embedded"]["url"]
MINMOD_URL = MINMOD.url

# Strings with few distinct values are dictionary-encoded; near-unique ones (ids, names,
# references) compress better as plain values under zstd (measured on the real files).
DICTIONARY_COLUMNS = {
    "production": ["country", "commodity", "statistic", "unit", "value_flag", "source"],
    "deposits": ["country", "commodities", "status", "deposit_type", "source", "location_check"],
}
ZSTD_LEVEL = 22  # the highest: the files are written once and read many times


class BuildError(RuntimeError):
    """The build cannot run (missing input, failed ingest); the message says why."""


@dataclass(frozen=True)
class BuiltFile:
    path: Path
    rows: int
    size_bytes: int
    sha256: str


def default_shared_data() -> Path:
    configured = os.environ.get("CRITMIN_SHARED_DATA", "").strip()
    return Path(configured) if configured else REPO.parent / "shared" / "data"


def _ingest(argv: list[str]) -> list[str]:
    """Run one `critmin` command; its printed summary, line by line."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(argv)
    if status != 0:
        raise BuildError(f"`critmin {' '.join(argv)}` failed: {err.getvalue().strip()}")
    return [line.rstrip() for line in out.getvalue().splitlines() if line.strip()]


def _part_frame(warehouse: Warehouse, spec: EmbeddedPart) -> pl.DataFrame:
    part = warehouse.parts(spec.table)[spec.part]
    return pl.read_parquet([warehouse.root / f for f in part.files])


def _provenance(warehouse: Warehouse, spec: EmbeddedPart) -> Provenance:
    records = [
        p for p in warehouse.provenance() if p.table == spec.table and p.source == spec.source
    ]
    if len(records) != 1:
        raise BuildError(f"expected one provenance record for {spec.table}/{spec.source}")
    return records[0]


def canonical_order(table: str, frame: pl.DataFrame) -> pl.DataFrame:
    """Sorted as the schema says, ties broken by every other plain column, so the row
    order (and so the file) never depends on how the ingest happened to order rows."""
    spec = TABLES[table]
    tie_breakers = [
        c
        for c, dtype in spec.columns.items()
        if c not in spec.sort_by and not isinstance(dtype, pl.List)
    ]
    return validate_frame(table, frame).sort([*spec.sort_by, *tie_breakers], nulls_last=False)


def dataset_of_reference() -> pl.Expr:
    """The data set title and address named in a MinMod row's source_reference
    ("Porphyry copper deposits of the world (https://mrdata.usgs.gov/porcu), record 317")."""
    groups = pl.col("source_reference").str.extract_groups(r"^(.*) \((\S+)\), record .*$")
    return pl.struct(groups.struct.field("1").alias("title"), groups.struct.field("2").alias("url"))


def public_domain_sites(sites: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(kept rows, kept data sets, left-out data sets), data sets with their row counts."""
    labelled = sites.with_columns(dataset_of_reference().alias("_dataset"))
    unknown = labelled.filter(pl.col("_dataset").struct.field("url").is_null())
    if unknown.height:
        raise BuildError(
            f"{unknown.height} MinMod rows name no data set in source_reference, e.g. "
            f"{unknown['source_reference'][0]!r}"
        )
    public = pl.col("_dataset").struct.field("url").str.starts_with(PUBLIC_DOMAIN_URL_PREFIX)

    def counts(frame: pl.DataFrame) -> pl.DataFrame:
        return (
            frame.group_by("_dataset")
            .len("rows")
            .unnest("_dataset")
            .sort(["rows", "title"], descending=[True, False])
        )

    kept = labelled.filter(public)
    left_out = labelled.filter(~public)
    return kept.drop("_dataset"), counts(kept), counts(left_out)


def write_parquet(table: str, frame: pl.DataFrame, path: Path) -> BuiltFile:
    pq.write_table(
        frame.to_arrow(),
        path,
        compression="zstd",
        compression_level=ZSTD_LEVEL,
        use_dictionary=DICTIONARY_COLUMNS[table],
        row_group_size=max(frame.height, 1),
        write_statistics=True,
    )
    return BuiltFile(path, frame.height, path.stat().st_size, file_sha256(path))


def _record(
    provenance: Provenance,
    spec: EmbeddedPart,
    built: BuiltFile,
    shared_file: Path,
    conversion: dict[str, Any],
) -> dict[str, Any]:
    fields = dict(provenance.__dict__)
    fields["loaded_at"] = ""  # no time stamp: the build is deterministic
    return {
        **fields,
        "shared_file": str(shared_file),
        "conversion": conversion,
        "embedded": {
            "file": spec.file,
            "table": spec.table,
            "part": spec.part,
            "rows": built.rows,
            "size_bytes": built.size_bytes,
            "sha256": built.sha256,
        },
    }


def _sites_citation(datasets: pl.DataFrame) -> str:
    listed = "; ".join(f"{title} ({url})" for title, url, _ in datasets.iter_rows())
    return (
        f"U.S. Geological Survey mineral deposit compilations: {listed}; as repackaged by the "
        f"DARPA CriticalMAAS MinMod knowledge graph ({MINMOD_URL}). Each row's "
        "source_reference names its data set and record."
    )


def _encoding_steps(table: str) -> list[str]:
    spec = TABLES[table]
    return [
        f"sorted by {', '.join(spec.sort_by)} (ties by the other columns)",
        f"written with pyarrow as one row group, zstd level {ZSTD_LEVEL}, dictionary-encoded "
        f"columns {', '.join(DICTIONARY_COLUMNS[table])}; every value as the ingest wrote it"
        + (" (coordinates not rounded)" if "lat" in spec.columns else ""),
    ]


def build(shared_data: Path, out_dir: Path) -> list[BuiltFile]:
    """Ingest the public files with critmin's own code and write data/embedded/ into
    out_dir; the files written."""
    inputs = {name: shared_data / name for name in (MCS_FILE, MINMOD_FILE)}
    for relative, path in inputs.items():
        if not path.is_file():
            raise BuildError(
                f"{path} not found: the public files are expected in {shared_data} "
                f"(it must hold {relative}); pass --shared-data or set CRITMIN_SHARED_DATA"
            )
    production_spec, deposits_spec = PARTS
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="critmin-embedded-") as tmp:
        data_dir = Path(tmp) / "warehouse"
        target = ["--data-dir", str(data_dir)]
        mcs_summary = _ingest([*target, "ingest", "usgs-mcs", str(inputs[MCS_FILE])])
        minmod_summary = _ingest(
            [*target, "ingest", "deposits", str(inputs[MINMOD_FILE]), "--format", "minmod"]
        )
        warehouse = Warehouse(data_dir)
        production = canonical_order("production", _part_frame(warehouse, production_spec))
        sites = _part_frame(warehouse, deposits_spec)
        mcs_provenance = _provenance(warehouse, production_spec)
        minmod_provenance = _provenance(warehouse, deposits_spec)

    kept, kept_sets, left_out_sets = public_domain_sites(sites)
    deposits = canonical_order("deposits", kept)

    built_production = write_parquet("production", production, out_dir / production_spec.file)
    built_deposits = write_parquet("deposits", deposits, out_dir / deposits_spec.file)

    mcs_provenance.file_name = MCS_PUBLISHED_NAME
    mcs_provenance.url = MCS_URL
    minmod_provenance.licence = USGS_LICENCE
    minmod_provenance.citation = _sites_citation(kept_sets)
    minmod_provenance.url = USGS_URL
    records = [
        _record(
            mcs_provenance,
            production_spec,
            built_production,
            MCS_FILE,
            {
                "command": f"critmin ingest usgs-mcs {MCS_FILE}",
                "ingest_summary": mcs_summary,
                "steps": _encoding_steps("production"),
            },
        ),
        _record(
            minmod_provenance,
            deposits_spec,
            built_deposits,
            MINMOD_FILE,
            {
                "command": f"critmin ingest deposits {MINMOD_FILE} --format minmod",
                "ingest_summary": minmod_summary,
                "steps": [
                    f"kept the {kept.height:,} rows of data sets published on "
                    f"{PUBLIC_DOMAIN_URL_PREFIX} (public domain); left out "
                    f"{sites.height - kept.height:,} rows of data sets under other terms",
                    *_encoding_steps("deposits"),
                ],
                "datasets_kept": kept_sets.to_dicts(),
                "datasets_left_out": left_out_sets.to_dicts(),
            },
        ),
    ]
    provenance_path = out_dir / PROVENANCE_FILE
    provenance_path.write_text(
        json.dumps(records, indent=2, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    size = provenance_path.stat().st_size
    built_provenance = BuiltFile(provenance_path, len(records), size, file_sha256(provenance_path))
    return [built_production, built_deposits, built_provenance]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--shared-data",
        type=Path,
        default=None,
        help="folder of the public files (default: $CRITMIN_SHARED_DATA or ../shared/data)",
    )
    parser.add_argument("--out", type=Path, default=EMBEDDED_DIR, help="output folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    shared = args.shared_data or default_shared_data()
    try:
        built = build(shared, args.out)
    except BuildError as error:
        print(f"build_embedded_data: {error}", file=sys.stderr)
        return 1
    print(f"Wrote {args.out} from {shared}:")
    for item in built:
        what = "records" if item.path.suffix == ".json" else "rows"
        print(
            f"  {item.path.name:20} {item.rows:>7,} {what:7} {item.size_bytes:>10,} bytes  "
            f"sha256 {item.sha256}"
        )
    total = sum(item.size_bytes for item in built)
    print(f"  total {total:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
