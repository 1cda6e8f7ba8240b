"""Deposits, mines and plants -> the `deposits` table.

`critmin ingest deposits PATH [--format auto|minmod|mrds|jasansky|generic]` reads one
of four formats and writes the `deposits` part named after it (`minmod`, `mrds`,
`jasansky`, `generic`; `--part` overrides), so several sources coexist with the
hand-curated part `curated`. Loading a format again replaces that part only.

- minmod: the flattened MinMod CSVs (dataset, source_id, source_desc, record_id, name,
  country, iso3, latitude, longitude, site_type, commodities ";"-separated,
  deposit_type, ...).
- mrds: the USGS MRDS CSV with its original columns (dep_id, site_name, latitude,
  longitude, country, commod1..3 comma-separated, dev_stat, dep_type, url, ...).
- jasansky: the folder of Jasansky et al. (2023) (facilities.csv with geometry text
  `c(lon, lat)`, commodities.csv for each facility's commodities, optionally
  material_ids.csv and source_ids.csv), or its facilities.csv.
- generic: name, latitude, longitude, country, commodities (";"-separated), status,
  type, source (plus an optional id).

Every row is checked against its country's Natural Earth 1:50m shape (same rule and
tolerance as `reference.point_in_country`, vectorised per country): location_check is
"ok", "swapped lat/lon" (the swapped point lies in the country: coordinates are
corrected), "outside country", "no coordinates" (kept, lat/lon null) or "unchecked"
(no country or no shape). Coordinates out of range that a swap does not explain, and
coordinates that are not numbers, stop the load with the line named. Commodity
names become short symbols through `reference/commodity_aliases.csv` (unknown names
are kept as given and reported); statuses map to `domain.DEPOSIT_STATUSES` through
`reference/deposit_status_aliases.csv`.
"""

from __future__ import annotations

import argparse
import functools
import logging
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import polars as pl
import shapely

from critmin import derive, reference, sources
from critmin.domain import DEPOSIT_STATUSES
from critmin.ingest import common
from critmin.ingest.common import IngestError, Summary
from critmin.warehouse import Provenance, Warehouse

log = logging.getLogger(__name__)

TABLE = "deposits"
FORMATS = ("minmod", "mrds", "jasansky", "generic")
REQUIRED: dict[str, tuple[str, ...]] = {
    "minmod": (
        "dataset",
        "source_id",
        "source_desc",
        "record_id",
        "name",
        "country",
        "iso3",
        "latitude",
        "longitude",
        "site_type",
        "commodities",
        "deposit_type",
    ),
    "mrds": ("dep_id", "site_name", "latitude", "longitude", "country", "commod1", "dev_stat"),
    "generic": (
        "name",
        "latitude",
        "longitude",
        "country",
        "commodities",
        "status",
        "type",
        "source",
    ),
    "jasansky": (
        "facility_id",
        "facility_name",
        "facility_type",
        "commodities_products",
        "activity_status",
        "country",
        "GID_0",
        "geom",
    ),
}
LABELS = {
    "minmod": "MinMod flattened CSV",
    "mrds": "USGS MRDS CSV",
    "jasansky": "Jasansky et al. (2023) facilities",
    "generic": "generic deposits CSV",
}
# Each format's publisher, licence, citation and address: ingest/sources/deposits_<format>.toml.
SOURCE_FILES = {fmt: f"deposits_{fmt}" for fmt in LABELS}
TOLERANCE_DEG = 0.05  # as reference.point_in_country
COMMODITY_ALIASES_FILE = reference.REFERENCE_DIR / "commodity_aliases.csv"
STATUS_ALIASES_FILE = reference.REFERENCE_DIR / "deposit_status_aliases.csv"
# Jasansky et al.: a facility whose last reported production year is this or later
# counts as producing when the file gives no activity status.
JASANSKY_RECENT_YEAR = 2018

STAGED_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "name": pl.String(),
    "country_name": pl.String(),
    "iso3": pl.String(),
    "lat": pl.String(),
    "lon": pl.String(),
    "commodities": pl.List(pl.String()),
    "status": pl.String(),
    "deposit_type": pl.String(),
    "source_reference": pl.String(),
    "line": pl.Int64(),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("auto", *FORMATS),
        default="auto",
        help="input format (default: tell from the columns)",
    )
    parser.add_argument("--part", help="warehouse part name (default: the format's name)")
    parser.add_argument("--licence", help="licence of a generic CSV (for the About page)")
    parser.add_argument("--citation", help="citation of a generic CSV (for the About page)")


# --- reference mappings -------------------------------------------------------------


def _key(text: str) -> str:
    return " ".join(text.split()).casefold()


@functools.cache
def commodity_aliases() -> dict[str, str]:
    raw = pl.read_csv(COMMODITY_ALIASES_FILE, infer_schema=False)
    return {_key(name): symbol for name, symbol in raw.select("name", "symbol").iter_rows()}


@functools.cache
def status_aliases() -> dict[str, str]:
    raw = pl.read_csv(STATUS_ALIASES_FILE, infer_schema=False)
    mapping = {_key(value): status for value, status in raw.select("value", "status").iter_rows()}
    bad = sorted(set(mapping.values()) - set(DEPOSIT_STATUSES))
    if bad:
        raise reference.ReferenceError(f"{STATUS_ALIASES_FILE.name}: unknown statuses {bad}")
    return mapping


def normalise_commodity(name: str) -> str:
    """'Copper' -> 'Cu'; names not in the alias file are kept as given (trimmed)."""
    return commodity_aliases().get(_key(name), " ".join(name.split()))


def normalise_status(value: str | None) -> str | None:
    """A source's status word -> the status vocabulary; None if not known."""
    if value is None or not value.strip():
        return "unknown"
    aliases = status_aliases()
    key = _key(value)
    return aliases.get(key) or aliases.get(key.split()[0])


# --- location checks ----------------------------------------------------------------


def _inside(geometry: object, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    inside = np.asarray(shapely.contains_xy(geometry, x, y), dtype=bool)
    rest = ~inside
    if rest.any():
        distance = shapely.distance(geometry, shapely.points(x[rest], y[rest]))
        inside[rest] = distance <= TOLERANCE_DEG
    return inside


def check_locations(
    countries: list[str | None], lat: np.ndarray, lon: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(location_check, lat, lon) per row, swapping coordinates where that puts the point
    in its country. NaN coordinates mean "no coordinates"."""
    lat, lon = lat.astype(float).copy(), lon.astype(float).copy()
    checks = np.full(len(lat), "no coordinates", dtype=object)
    has = ~np.isnan(lat) & ~np.isnan(lon)
    checks[has] = "unchecked"
    country = np.array(countries, dtype=object)
    shapes = reference.country_shapes()
    for code in {c for c in country[has] if c is not None}:
        geometry = shapes.get(code)
        if geometry is None:
            continue
        rows = np.flatnonzero(has & (country == code))
        inside = _inside(geometry, lon[rows], lat[rows])
        checks[rows[inside]] = "ok"
        outside = rows[~inside]
        if outside.size:
            could_swap = np.abs(lon[outside]) <= 90
            swapped = could_swap & _inside(geometry, lat[outside], lon[outside])
            fix = outside[swapped]
            lat[fix], lon[fix] = lon[fix], lat[fix]
            checks[fix] = "swapped lat/lon"
            checks[outside[~swapped]] = "outside country"
    return checks, lat, lon


# --- reading ------------------------------------------------------------------------


def read_csv(path: Path, what: str) -> pl.DataFrame:
    common.require_file(path, what)
    common.check_table_file(path, what)
    common.check_utf8(path)
    try:
        raw = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except pl.exceptions.PolarsError as error:
        raise IngestError(f"{path}: not a readable CSV ({common.excerpt(error)})") from error
    return raw.rename({c: c.strip().lstrip("\ufeff") for c in raw.columns})


def detect_format(path: Path) -> str:
    if path.is_dir() or path.name.lower() == "facilities.csv":
        return "jasansky"
    header = read_csv(path, "a deposits CSV").columns
    for name in ("minmod", "mrds", "generic"):
        if set(REQUIRED[name]) <= set(header):
            return name
    wanted = "; ".join(
        f"{name}: {', '.join(REQUIRED[name])}" for name in ("minmod", "mrds", "generic")
    )
    raise IngestError(
        f"{path}: cannot tell the deposits format from its columns "
        f"({common.listed(header)}). Expected the columns of one of — {wanted}. "
        "Use --format to choose."
    )


def _checked(path: Path, raw: pl.DataFrame, fmt: str) -> pl.DataFrame:
    common.require_columns(path, raw.columns, REQUIRED[fmt], LABELS[fmt])
    if raw.height == 0:
        raise IngestError(f"{path}: the file has a header but no data rows")
    return raw.with_row_index("line", offset=2).with_columns(pl.col("line").cast(pl.Int64))


def _split(column: str, separator: str) -> pl.Expr:
    return (
        pl.col(column)
        .fill_null("")
        .str.split(separator)
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().filter(pl.element() != ""))
    )


def stage_minmod(path: Path) -> pl.DataFrame:
    raw = _checked(path, read_csv(path, LABELS["minmod"]), "minmod")
    short = pl.col("dataset").fill_null("").str.split("/").list.last()
    # Many USGS sites name their commodities only in `commodities_observed` (what the
    # source lists, e.g. "Cu;Zn;Ni;Pb"); `commodities` is MinMod's normalised list.
    commodities = _split("commodities", ";")
    if "commodities_observed" in raw.columns:
        commodities = (
            pl.when(commodities.list.len() > 0)
            .then(commodities)
            .otherwise(_split("commodities_observed", ";"))
        )
    return raw.select(
        pl.concat_str(
            pl.lit("minmod-"), short, pl.lit("-"), pl.col("record_id").fill_null("")
        ).alias("id"),
        pl.col("name"),
        pl.col("country").alias("country_name"),
        pl.col("iso3"),
        pl.col("latitude").alias("lat"),
        pl.col("longitude").alias("lon"),
        commodities.alias("commodities"),
        pl.col("site_type").alias("status"),
        pl.col("deposit_type"),
        pl.concat_str(
            pl.col("source_desc").fill_null(pl.col("dataset")),
            pl.lit(" ("),
            pl.col("source_id").fill_null(""),
            pl.lit("), record "),
            pl.col("record_id").fill_null(""),
        ).alias("source_reference"),
        "line",
    )


def stage_mrds(path: Path) -> pl.DataFrame:
    raw = _checked(path, read_csv(path, LABELS["mrds"]), "mrds")
    for optional in ("commod2", "commod3", "dep_type", "url"):
        if optional not in raw.columns:
            raw = raw.with_columns(pl.lit(None, dtype=pl.String).alias(optional))
    commodities = pl.concat_list(
        _split("commod1", ","), _split("commod2", ","), _split("commod3", ",")
    )
    return raw.select(
        pl.concat_str(pl.lit("mrds-"), pl.col("dep_id")).alias("id"),
        pl.col("site_name").alias("name"),
        pl.col("country").alias("country_name"),
        pl.lit(None, dtype=pl.String).alias("iso3"),
        pl.col("latitude").alias("lat"),
        pl.col("longitude").alias("lon"),
        commodities.alias("commodities"),
        pl.col("dev_stat").alias("status"),
        pl.col("dep_type").alias("deposit_type"),
        pl.coalesce(pl.col("url"), pl.concat_str(pl.lit("MRDS dep_id "), pl.col("dep_id"))).alias(
            "source_reference"
        ),
        "line",
    )


def stage_generic(path: Path) -> pl.DataFrame:
    raw = _checked(path, read_csv(path, LABELS["generic"]), "generic")
    ids = (
        pl.col("id")
        if "id" in raw.columns
        else pl.concat_str(pl.lit("row"), pl.col("line").cast(pl.String))
    )
    return raw.select(
        pl.concat_str(pl.lit("generic-"), ids).alias("id"),
        pl.col("name"),
        pl.col("country").alias("country_name"),
        pl.lit(None, dtype=pl.String).alias("iso3"),
        pl.col("latitude").alias("lat"),
        pl.col("longitude").alias("lon"),
        _split("commodities", ";").alias("commodities"),
        pl.col("status"),
        pl.col("type").alias("deposit_type"),
        pl.col("source").alias("source_reference"),
        "line",
    )


@dataclass
class JasanskyFiles:
    facilities: Path
    commodities: Path | None
    materials: Path | None
    sources: Path | None

    def all(self) -> list[Path]:
        return [p for p in (self.facilities, self.commodities, self.materials, self.sources) if p]


def jasansky_files(path: Path) -> JasanskyFiles:
    common.refuse_symlink(path)
    folder = path if path.is_dir() else path.parent
    facilities = folder / "facilities.csv"
    common.refuse_symlink(facilities)
    if not facilities.is_file():
        raise IngestError(f"{folder}: no facilities.csv (a Jasansky et al. 2023 folder expected)")

    def optional(name: str) -> Path | None:
        candidate = folder / name
        common.refuse_symlink(candidate)
        return candidate if candidate.is_file() else None

    return JasanskyFiles(
        facilities,
        optional("commodities.csv"),
        optional("material_ids.csv"),
        optional("source_ids.csv"),
    )


_GEOM = re.compile(r"^\s*c\(\s*([^,\s]+)\s*,\s*([^,\s)]+)\s*\)\s*$")


def stage_jasansky(path: Path) -> pl.DataFrame:
    files = jasansky_files(path)
    raw = _checked(files.facilities, read_csv(files.facilities, LABELS["jasansky"]), "jasansky")
    geometry = pl.col("geom").fill_null("").str.extract_groups(_GEOM.pattern)
    raw = raw.with_columns(
        geometry.struct.field("1").alias("_x"), geometry.struct.field("2").alias("_y")
    ).with_columns(
        # "c(NaN, NaN)" and "numeric(0)" are R's empty geometries.
        pl.when(pl.col("_x") == "NaN").then(None).otherwise(pl.col("_x")).alias("_x"),
        pl.when(pl.col("_y") == "NaN").then(None).otherwise(pl.col("_y")).alias("_y"),
    )
    produced = pl.DataFrame(
        schema={"facility_id": pl.String, "codes": pl.List(pl.String), "last_year": pl.Int64}
    )
    if files.commodities:
        table = read_csv(files.commodities, "Jasansky et al. commodities.csv")
        common.require_columns(
            files.commodities,
            table.columns,
            ("facility_id", "year", "commodity"),
            "Jasansky et al. commodities",
        )
        produced = table.group_by("facility_id").agg(
            pl.col("commodity").drop_nulls().unique(maintain_order=True).alias("codes"),
            pl.col("year").cast(pl.Int64, strict=False).max().alias("last_year"),
        )
    names: dict[str, str] = {}
    if files.materials:
        materials = read_csv(files.materials, "Jasansky et al. material_ids.csv")
        if {"material_id", "material_name"} <= set(materials.columns):
            names = dict(materials.select("material_id", "material_name").iter_rows())
    references: dict[str, str] = {}
    if files.sources:
        sources = read_csv(files.sources, "Jasansky et al. source_ids.csv")
        if {"source_id", "sources"} <= set(sources.columns):
            references = dict(sources.select("source_id", "sources").iter_rows())
    raw = raw.join(produced, on="facility_id", how="left")
    rows = []
    for row in raw.iter_rows(named=True):
        codes = row["codes"] or []
        commodities = [_jasansky_commodity(code, names) for code in codes]
        if not commodities:
            commodities = [c.strip() for c in (row["commodities_products"] or "").split(",")]
        status = row["activity_status"]
        kinds = {k.strip().lower() for k in (row["facility_type"] or "").split(",")}
        if not status:
            if kinds and "mine" not in kinds and kinds & {"smelter", "refinery", "concentrator"}:
                status = "plant"
            elif row["last_year"] is not None:
                status = (
                    "producing" if row["last_year"] >= JASANSKY_RECENT_YEAR else "past producer"
                )
        source_id = row.get("source_id") or ""
        reference_text = references.get(source_id, "")
        rows.append(
            {
                "id": f"jasansky-{row['facility_id']}",
                "name": row["facility_name"],
                "country_name": row["country"],
                "iso3": row["GID_0"],
                "lat": row["_y"],
                "lon": row["_x"],
                "commodities": [c for c in commodities if c],
                "status": status,
                "deposit_type": row["facility_type"],
                "source_reference": "; ".join(
                    t
                    for t in (
                        f"Jasansky et al. 2023, facility {row['facility_id']}",
                        reference_text,
                    )
                    if t
                ),
                "line": row["line"],
            }
        )
    return pl.DataFrame(rows, schema=STAGED_SCHEMA)


def _jasansky_commodity(code: str, names: dict[str, str]) -> str:
    """'Me.Cu' -> 'Cu'; other codes through their material name ('Me.U3O8' ->
    'Triuranium octoxide' -> 'U')."""
    symbol = code.split(".", 1)[-1]
    if code.startswith("Me.") and symbol in set(commodity_aliases().values()):
        return symbol
    return normalise_commodity(names.get(code, symbol))


STAGERS = {
    "minmod": stage_minmod,
    "mrds": stage_mrds,
    "jasansky": stage_jasansky,
    "generic": stage_generic,
}


# --- from staged rows to the table -----------------------------------------------------


def _coordinates(staged: pl.DataFrame, column: str, label: str, path: Path) -> np.ndarray:
    text = pl.col(column).str.strip_chars()
    values = staged.select(
        text.alias("text"), text.cast(pl.Float64, strict=False).alias("value"), "line"
    )
    bad = values.filter(
        pl.col("text").is_not_null() & (pl.col("text") != "") & pl.col("value").is_null()
    )
    if bad.height:
        text_value, line = bad.row(0)[0], bad.row(0)[2]
        raise IngestError(
            f"{path}: line {line}, column {label}: {common.excerpt(text_value)!r} is not a "
            f"number ({bad.height} row(s) in all)"
        )
    return values["value"].fill_nan(None).to_numpy().astype(float)


def finish(
    staged: pl.DataFrame,
    part: str,
    path: Path,
    summary: Summary,
    label_lat: str = "latitude",
    label_lon: str = "longitude",
) -> pl.DataFrame:
    """Staged rows -> `deposits` rows: countries, checked coordinates, symbols, statuses."""
    summary.rows_in = staged.height
    known = set(reference.countries_base()["iso3"].to_list())
    names = common.country_names_to_iso3(staged["country_name"].to_list())
    countries: list[str | None] = []
    unknown_names: Counter[str] = Counter()
    for iso3, name in staged.select("iso3", "country_name").iter_rows():
        code = iso3.strip().upper() if iso3 and iso3.strip().upper() in known else None
        if code is None and name:
            code = names.get(name)
            if code is None:
                unknown_names[name] += 1
        countries.append(code if code in known else None)
    lat = _coordinates(staged, "lat", label_lat, path)
    lon = _coordinates(staged, "lon", label_lon, path)
    checks, lat, lon = check_locations(countries, lat, lon)
    out_of_range = (np.abs(np.nan_to_num(lat)) > 90) | (np.abs(np.nan_to_num(lon)) > 180)
    if out_of_range.any():
        index = int(np.flatnonzero(out_of_range)[0])
        line = staged["line"][index]
        country = countries[index] or "its country"
        raise IngestError(
            f"{path}: line {line}: latitude {lat[index]:g} / longitude {lon[index]:g} is outside "
            f"-90..90 / -180..180, and swapping them does not put the point in {country} "
            f"({int(out_of_range.sum())} row(s) in all)"
        )
    statuses: list[str] = []
    unknown_statuses: Counter[str] = Counter()
    for value in staged["status"].to_list():
        status = normalise_status(value)
        if status is None:
            unknown_statuses[value] += 1
            status = "unknown"
        statuses.append(status)
    unmapped: Counter[str] = Counter()
    commodity_lists = []
    symbols = set(commodity_aliases().values())
    for items in staged["commodities"].to_list():
        normalised: list[str] = []
        for item in items or []:
            symbol = normalise_commodity(item)
            if symbol not in symbols:
                unmapped[symbol] += 1
            if symbol and symbol not in normalised:
                normalised.append(symbol)
        commodity_lists.append(normalised)
    deposit_type = pl.col("deposit_type").str.strip_chars()
    frame = staged.select(
        "id",
        pl.col("name").str.strip_chars().fill_null("(unnamed)").alias("name"),
        pl.Series("country", countries, dtype=pl.String),
        pl.Series("lat", lat, dtype=pl.Float64).fill_nan(None),
        pl.Series("lon", lon, dtype=pl.Float64).fill_nan(None),
        pl.Series("commodities", commodity_lists, dtype=pl.List(pl.String)),
        pl.Series("status", statuses, dtype=pl.String),
        # Bare numbers ("17") are a source's own class codes with no label: dropped.
        pl.when(deposit_type.str.contains(r"^\d+$") | (deposit_type == ""))
        .then(None)
        .otherwise(deposit_type)
        .alias("deposit_type"),
        pl.lit(part).alias("source"),
        "source_reference",
        pl.Series("location_check", checks.tolist(), dtype=pl.String),
    )
    before = frame.height
    frame = frame.unique("id", keep="first", maintain_order=True)
    summary.reject("duplicate id (first row kept)", before - frame.height)
    summary.rows_kept = frame.height
    _notes(summary, frame, staged, unknown_names, unknown_statuses, unmapped)
    return frame


def _notes(
    summary: Summary,
    frame: pl.DataFrame,
    staged: pl.DataFrame,
    unknown_names: Counter[str],
    unknown_statuses: Counter[str],
    unmapped: Counter[str],
) -> None:
    checks = frame["location_check"].value_counts(sort=True)
    summary.notes.append(
        "location checks: " + ", ".join(f"{check} {count:,}" for check, count in checks.iter_rows())
    )
    swapped = frame.filter(pl.col("location_check") == "swapped lat/lon").height
    if swapped:
        summary.notes.append(f"{swapped:,} rows had latitude and longitude swapped: corrected")
    if unknown_names:
        listed = ", ".join(
            f"{common.excerpt(n, 40)!r} ({c})" for n, c in unknown_names.most_common(10)
        )
        summary.notes.append(
            f"{sum(unknown_names.values()):,} rows with a country name that has no ISO3 code, kept "
            f"with no country (add them to reference/country_aliases.csv): {listed}"
        )
    no_country = staged.filter(pl.col("country_name").is_null() & pl.col("iso3").is_null()).height
    if no_country:
        summary.notes.append(f"{no_country:,} rows give no country (location unchecked)")
    if unknown_statuses:
        listed = ", ".join(
            f"{common.excerpt(s, 40)!r} ({c})" for s, c in unknown_statuses.most_common(5)
        )
        summary.notes.append(f"statuses not in the vocabulary, stored as unknown: {listed}")
    if unmapped:
        listed = ", ".join(f"{n} ({c})" for n, c in unmapped.most_common(8))
        summary.notes.append(
            f"{len(unmapped)} commodity names kept as given (no symbol in "
            f"reference/commodity_aliases.csv), e.g. {listed}"
        )
    unnamed = staged.filter(pl.col("name").is_null()).height
    if unnamed:
        summary.notes.append(f"{unnamed:,} rows without a name stored as '(unnamed)'")


def load(
    path: Path, fmt: str = "auto", part: str | None = None
) -> tuple[pl.DataFrame, Summary, str, list[Path]]:
    """Read and check a deposits file: (deposits frame, summary, format, files read)."""
    common.refuse_symlink(path)
    if not path.exists():
        raise IngestError(f"{path}: no such file or folder (a deposits file expected)")
    fmt = detect_format(path) if fmt == "auto" else fmt
    staged = STAGERS[fmt](path)
    files = jasansky_files(path).all() if fmt == "jasansky" else [path]
    summary = Summary(source=f"deposits, {LABELS[fmt]} ({path.name})")
    frame = finish(staged, part or fmt, files[0], summary)
    return frame, summary, fmt, files


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    path = Path(args.path)
    frame, summary, fmt, files = load(
        path, getattr(args, "format", "auto") or "auto", getattr(args, "part", None)
    )
    part = getattr(args, "part", None) or fmt
    release = path.name
    fields = sources.source(SOURCE_FILES[fmt]).record_fields()
    if fmt == "generic":  # the user's own file: its terms as given
        fields["licence"] = getattr(args, "licence", None) or fields["licence"]
        fields["citation"] = getattr(args, "citation", None) or fields["citation"]
    with warehouse.transaction(derived=derive.refresh) as tx:
        common.ensure_reference_tables(tx, warehouse)
        tx.write_frame(TABLE, part, frame, source=fmt, release=release)
        for file in files:
            tx.add_provenance(
                Provenance.for_file(
                    file,
                    source=fmt,
                    release=release,
                    table=TABLE,
                    **fields,
                )
            )
    summary.notes.append(f"written as {TABLE}/{part}; other parts (curated, ...) kept")
    summary.print()
    return 0
