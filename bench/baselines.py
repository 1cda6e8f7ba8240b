"""The pages' queries answered two other ways, for comparison: pandas and polars lazy.

Each engine answers a recorded call (`pages.Call`: a query's name and the parameters
the view bound) with the semantics of `critmin/queries/sql`:

- `selected` (exports_by_series, exporters_by_series, imports_by_supplier,
  suppliers_market): one row per
  flow and series, so a code in two chosen baskets counts under both;
- `selected_once` (exports_total, exports_by_stage, exports_by_partner, mirror_flows,
  flows_explorer): each flow once, under its "owner" (the first chosen basket holding
  its code, alphabetically) and labelled with every chosen basket's label; a code
  chosen directly that a chosen basket holds is not counted again;
- `stages` keeps the basket codes of those value-chain stages (codes chosen directly
  have none and are kept); an empty list of sides, exporters or importers means any;
- tonnes are summed only within one value-chain stage (`series_stages`, `stage_key`: a
  series whose codes span stages, or a group that mixes stages, has no quantity).

`PandasApp` is the typical Streamlit app: the needed columns of every trade_flows file
in one DataFrame, loaded once (what `st.cache_data` would keep), filtered and grouped
per request. `PolarsLazy` builds a `pl.scan_parquet` plan per request: over the trade
files (the polars-lazy approach to the same app), or with `derived=True` over the same
derived `mineral_flows` files DuckDB reads, engine against engine. All return polars
frames with the SQL's columns, so `compare` can check the numbers agree.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
from pandas.api.types import union_categoricals

from bench.pages import Call
from critmin.db import order_clause, sort_columns
from critmin.warehouse import Warehouse

TRADE_COLUMNS = [
    "hs_edition",
    "hs6",
    "exporter",
    "importer",
    "value_usd",
    "quantity_kg",
    "side",
    "source",
    "release",
]
FLOW_COLUMNS = ["year", *TRADE_COLUMNS]
# Group keys of each aggregate query, and of the row queries (one row per key).
KEYS: dict[str, list[str]] = {
    "exports_by_series": ["year", "series"],
    "exports_total": ["year", "series"],
    "exports_by_stage": ["year", "stage"],
    "exports_by_partner": ["year", "partner"],
    "exports_overview": ["part", "year", "series", "stage", "partner"],
    "exporters_by_series": ["year", "series", "exporter"],
    "exports_by_partner_and_stage": ["year", "partner", "stage"],
    "exporters_by_stage": ["year", "exporter", "stage"],
    "exporters_total": ["year", "series", "exporter"],
    "quantity_coverage": ["source", "release", "side", "year"],
    "code_texts": ["hs_edition", "hs6"],
    "imports_by_supplier": ["year", "series", "supplier"],
    "suppliers_market": ["year", "series", "exporter"],
    "mirror_flows": ["year", "partner", "side", "source"],
    "flows_explorer": [
        "year",
        "series",
        "hs_edition",
        "hs6",
        "exporter",
        "importer",
        "side",
        "source",
        "release",
    ],
    "production": ["country", "commodity", "statistic", "year"],
    "events": ["date", "title"],
    "deposits": ["id"],
    "site_points": ["country", "name", "lat", "lon", "status", "source", "location_check"],
    "countries": ["iso3"],
    "mineral_baskets": ["mineral", "hs_edition", "hs6"],
    "products": ["hs_edition", "hs6"],
    "trade_years": ["year", "hs_edition", "source", "side", "release"],
    "deposit_facets": ["facet", "value"],
    "exports_by_series_partner": ["year", "series", "partner"],
    "monthly_by_partner": [
        "year",
        "month",
        "partner",
        "reporter",
        "side",
        "source",
        "national_code",
    ],
    "monthly_imports": ["year", "month", "supplier", "reporter", "source", "national_code"],
    "monthly_reporting": ["reporter", "side", "source"],
}
# site_points.sql's output: what the Map draws and counts of every site.
SITE_POINT_COLUMNS = [
    "name",
    "country",
    "lat",
    "lon",
    "commodities",
    "status",
    "source",
    "location_check",
]
EXPLORER_OUTPUT = [
    "year",
    "series",
    "hs_edition",
    "hs6",
    "description",
    "exporter",
    "importer",
    "value_usd",
    "quantity_kg",
    "unit_value_usd_per_kg",
    "side",
    "source",
    "release",
]


class NoBaseline(LookupError):
    """An engine has no version of a query a view ran."""


def _year_of(path: str) -> int:
    for segment in reversed(path.split("/")):
        if segment.startswith("year="):
            return int(segment.split("=", 1)[1])
    raise ValueError(f"{path}: no year=YYYY directory")


def _cap(call: Call, row_cap: int) -> int:
    return call.limit if call.limit is not None else row_cap


def _sort_spec(call: Call) -> tuple[list[str], list[bool]] | None:
    """The explorer's ORDER BY (db.order_clause) as columns and directions."""
    if call.sort is None:
        return None
    order_clause(call.name, call.sort)  # the same allow-list check as the app
    rest = [c for c in sort_columns(call.name) if c != call.sort.column]
    return [call.sort.column, *rest], [call.sort.descending] + [False] * len(rest)


# --- polars lazy ------------------------------------------------------------------------


class PolarsLazy:
    """Lazy scans of the warehouse's Parquet files, one plan per request."""

    def __init__(self, warehouse: Warehouse, derived: bool = False, row_cap: int = 50_000):
        self.derived = derived
        self.row_cap = row_cap
        self.files = {
            table: [str(p) for p in warehouse.files(table)]
            for table in warehouse.manifest().get("tables", {})
        }

    @property
    def label(self) -> str:
        return "polars lazy, derived files" if self.derived else "polars lazy, trade files"

    def _scan(self, table: str) -> pl.LazyFrame:
        return pl.scan_parquet(self.files[table])

    def _trade(self) -> pl.LazyFrame:
        return pl.scan_parquet(self.files["trade_flows"], hive_partitioning=True).with_columns(
            pl.col("year").cast(pl.Int32)
        )

    @staticmethod
    def _where(lf: pl.LazyFrame, p: dict[str, Any]) -> pl.LazyFrame:
        """trade_filter.sql: the years, and the sides, exporters, importers if any."""
        lf = lf.filter(pl.col("year").is_between(p["year_from"], p["year_to"]))
        for key, column in (
            ("sides", "side"),
            ("exporters", "exporter"),
            ("importers", "importer"),
        ):
            if p.get(key):
                lf = lf.filter(pl.col(column).is_in(list(p[key])))
        return lf

    def _baskets(self, p: dict[str, Any]) -> pl.LazyFrame:
        return self._scan("mineral_baskets").filter(pl.col("mineral").is_in(list(p["minerals"])))

    def _basket_flows(self, p: dict[str, Any]) -> pl.LazyFrame:
        """The chosen baskets' flows, one row per flow and mineral (mineral_flows)."""
        if self.derived:
            lf = self._scan("mineral_flows").filter(pl.col("mineral").is_in(list(p["minerals"])))
            return self._where(lf, p)
        baskets = self._baskets(p).select("mineral", "stage", "hs_edition", "hs6").collect()
        codes = baskets["hs6"].unique().implode()
        flows = self._where(self._trade().filter(pl.col("hs6").is_in(codes)), p)
        return flows.join(baskets.lazy(), on=["hs_edition", "hs6"])

    def _code_flows(self, p: dict[str, Any]) -> pl.LazyFrame | None:
        if not p.get("codes"):
            return None
        lf = self._where(self._trade().filter(pl.col("hs6").is_in(list(p["codes"]))), p)
        return lf.with_columns(
            (pl.lit("HS ") + pl.col("hs6")).alias("series"),
            pl.lit(None, pl.String).alias("stage"),
            pl.lit(1, pl.UInt32).alias("series_stages"),
            (pl.lit("HS ") + pl.col("hs6")).alias("stage_key"),
        )

    def _series_stages(self, p: dict[str, Any]) -> pl.LazyFrame:
        """How many stages each chosen basket spans per edition (over the chosen stages)."""
        baskets = self._baskets(p)
        if p.get("stages"):
            baskets = baskets.filter(pl.col("stage").is_in(list(p["stages"])))
        return baskets.group_by("mineral", "hs_edition").agg(
            pl.col("stage").n_unique().cast(pl.UInt32).alias("series_stages")
        )

    def _owners(self, p: dict[str, Any]) -> pl.LazyFrame:
        baskets = self._baskets(p)
        if p.get("stages"):
            baskets = baskets.filter(pl.col("stage").is_in(list(p["stages"])))
        return baskets.group_by("hs_edition", "hs6").agg(
            pl.col("mineral").min().alias("owner"),
            pl.col("stage").sort_by("mineral").first().alias("owner_stage"),
            pl.col("label").unique().sort().str.join(", ").alias("labels"),
        )

    def _union(self, basket: pl.LazyFrame, codes: pl.LazyFrame | None) -> pl.LazyFrame:
        columns = ["series", "stage", *FLOW_COLUMNS, "series_stages", "stage_key"]
        basket = basket.select(columns)
        return basket if codes is None else pl.concat([basket, codes.select(columns)])

    def selected(self, p: dict[str, Any]) -> pl.LazyFrame:
        basket = self._basket_flows(p)
        if p.get("stages"):
            basket = basket.filter(pl.col("stage").is_in(list(p["stages"])))
        basket = basket.join(self._series_stages(p), on=["mineral", "hs_edition"])
        return self._union(
            basket.with_columns(
                pl.col("mineral").alias("series"), pl.col("stage").alias("stage_key")
            ),
            self._code_flows(p),
        )

    def selected_once(self, p: dict[str, Any]) -> pl.LazyFrame:
        owners = self._owners(p).with_columns(
            pl.col("owner_stage")
            .n_unique()
            .over("hs_edition", "labels")
            .cast(pl.UInt32)
            .alias("series_stages")
        )
        basket = (
            self._basket_flows(p)
            .with_columns(pl.col("stage").alias("stage_key"))
            .join(
                owners,
                left_on=["hs_edition", "hs6", "mineral"],
                right_on=["hs_edition", "hs6", "owner"],
            )
        )
        codes = self._code_flows(p)
        if codes is not None:
            codes = codes.join(owners, on=["hs_edition", "hs6"], how="anti")
        return self._union(basket.rename({"labels": "series"}), codes)

    @staticmethod
    def _one_stage(by_stage: bool = False) -> pl.Expr:
        """A group's tonnes add up: its flows share one stage key, and (unless the group
        is one stage by construction) its series' codes are of one stage."""
        same = pl.col("stage_key").min() == pl.col("stage_key").max()
        return same if by_stage else same & (pl.col("series_stages").max() <= 1)

    @classmethod
    def _sums(
        cls, lf: pl.LazyFrame, keys: list[str], counts: bool = False, by_stage: bool = False
    ) -> pl.DataFrame:
        one = cls._one_stage(by_stage)
        aggs = [
            pl.col("value_usd").sum(),
            pl.when(one).then(pl.col("quantity_kg").sum()).alias("quantity_kg"),
        ]
        if counts:
            aggs += [
                pl.when(one)
                .then(pl.col("value_usd").filter(pl.col("quantity_kg").is_not_null()).sum())
                .alias("value_with_quantity_usd"),
                pl.len().alias("flows"),
            ]
        return lf.group_by(keys).agg(aggs).collect()

    # The queries, by the names of their .sql files.

    def exports_by_series(self, call: Call) -> pl.DataFrame:
        return self._sums(self.selected(call.params), ["year", "series"], counts=True)

    def exports_total(self, call: Call) -> pl.DataFrame:
        return self._sums(self.selected_once(call.params), ["year", "series"], counts=True)

    def exports_by_stage(self, call: Call) -> pl.DataFrame:
        return self._sums(self.selected_once(call.params), ["year", "stage"], by_stage=True)

    def exports_by_partner(self, call: Call) -> pl.DataFrame:
        lf = self.selected_once(call.params).rename({"importer": "partner"})
        return self._sums(lf, ["year", "partner"])

    def exports_overview(self, call: Call) -> pl.DataFrame:
        return _overview_parts(self, call)

    def exporters_by_series(self, call: Call) -> pl.DataFrame:
        return self._sums(self.selected(call.params), ["year", "series", "exporter"])

    def exports_by_partner_and_stage(self, call: Call) -> pl.DataFrame:
        lf = self.selected_once(call.params).rename({"importer": "partner"})
        return self._sums(lf, ["year", "partner", "stage"], counts=True, by_stage=True)

    def exporters_by_stage(self, call: Call) -> pl.DataFrame:
        keys = ["year", "exporter", "stage"]
        return self._sums(self.selected_once(call.params), keys, counts=True, by_stage=True)

    def exporters_total(self, call: Call) -> pl.DataFrame:
        return self._sums(self.selected_once(call.params), ["year", "series", "exporter"])

    def quantity_coverage(self, call: Call) -> pl.DataFrame:
        minerals = self._scan("mineral_baskets").select("mineral").unique().collect()
        once = self.selected_once(_every_flow(minerals["mineral"].to_list()))
        return (
            once.group_by("source", "release", "side", "year")
            .agg(
                pl.len().alias("flows"),
                pl.col("quantity_kg").count().alias("with_quantity"),
                pl.col("value_usd").sum(),
                pl.col("value_usd")
                .filter(pl.col("quantity_kg").is_not_null())
                .sum()
                .alias("value_with_quantity_usd"),
            )
            .collect()
        )

    def code_texts(self, call: Call) -> pl.DataFrame:
        editions = list(call.params["editions"])
        return self._products().filter(pl.col("hs_edition").is_in(editions)).collect()

    def imports_by_supplier(self, call: Call) -> pl.DataFrame:
        lf = self.selected(call.params).filter(
            ~pl.col("exporter").is_in(list(call.params["importers"]))
        )
        return self._sums(lf.rename({"exporter": "supplier"}), ["year", "series", "supplier"])

    def suppliers_market(self, call: Call) -> pl.DataFrame:
        world, buyers = _market_params(call)
        bought = pl.col("importer").is_in(buyers) & ~pl.col("exporter").is_in(buyers)
        one = self._one_stage()
        return (
            self.selected(world)
            .group_by("year", "series", "exporter")
            .agg(
                pl.col("value_usd").sum(),
                pl.when(one).then(pl.col("quantity_kg").sum()).alias("quantity_kg"),
                pl.col("value_usd").filter(bought).sum().alias("bought_usd"),
                pl.when(one).then(pl.col("quantity_kg").filter(bought).sum()).alias("bought_kg"),
                bought.sum().alias("bought_flows"),
            )
            .collect()
        )

    def mirror_flows(self, call: Call) -> pl.DataFrame:
        return (
            self.selected_once(call.params)
            .rename({"importer": "partner"})
            .group_by("year", "partner", "side", "source")
            .agg(pl.col("value_usd").sum())
            .collect()
        )

    def flows_explorer(self, call: Call) -> pl.DataFrame:
        products = self._products().select("hs_edition", "hs6", "description")
        lf = (
            self.selected_once(call.params)
            .join(products, on=["hs_edition", "hs6"], how="left")
            .with_columns(
                pl.when(pl.col("quantity_kg") != 0)
                .then(pl.col("value_usd") / pl.col("quantity_kg"))
                .alias("unit_value_usd_per_kg")
            )
            .select(EXPLORER_OUTPUT)
        )
        if spec := _sort_spec(call):
            lf = lf.sort(spec[0], descending=spec[1], nulls_last=True)
        return lf.head(_cap(call, self.row_cap)).collect()

    def _products(self) -> pl.LazyFrame:
        return self._scan("products").unique(["hs_edition", "hs6"], keep="first")

    def products(self, call: Call) -> pl.DataFrame:
        codes = list(call.params["codes"])
        return self._products().filter(pl.col("hs6").is_in(codes)).collect()

    def production(self, call: Call) -> pl.DataFrame:
        countries = list(call.params["countries"])
        return self._scan("production").filter(pl.col("country").is_in(countries)).collect()

    def events(self, call: Call) -> pl.DataFrame:
        return self._scan("events").sort("date", "title").collect()

    def _sites(self, p: dict[str, Any]) -> pl.LazyFrame:
        lf = self._scan("deposits")
        if p.get("countries"):
            lf = lf.filter(pl.col("country").is_in(list(p["countries"])))
        if p.get("commodities"):
            wanted = list(p["commodities"])
            lf = lf.filter(pl.col("commodities").list.eval(pl.element().is_in(wanted)).list.any())
        if p.get("statuses"):
            lf = lf.filter(pl.col("status").is_in(list(p["statuses"])))
        return lf

    def deposits(self, call: Call) -> pl.DataFrame:
        sites = self._sites(call.params).sort("country", "name", "id", nulls_last=True)
        return sites.head(_cap(call, self.row_cap)).collect()

    def site_points(self, call: Call) -> pl.DataFrame:
        return self._sites(call.params).select(SITE_POINT_COLUMNS).collect()

    def deposit_facets(self, call: Call) -> pl.DataFrame:
        sites = self._sites({"countries": call.params.get("countries")})
        commodity = (
            sites.select(pl.col("commodities").explode().alias("value"))
            .drop_nulls()
            .group_by("value")
            .agg(pl.len().alias("sites"))
            .select(pl.lit("commodity").alias("facet"), "value", "sites")
        )
        status = (
            sites.group_by(pl.col("status").alias("value"))
            .agg(pl.len().alias("sites"))
            .select(pl.lit("status").alias("facet"), "value", "sites")
        )
        return pl.concat([commodity, status]).collect()

    def countries(self, call: Call) -> pl.DataFrame:
        return self._scan("countries").collect()

    def mineral_baskets(self, call: Call) -> pl.DataFrame:
        return self._scan("mineral_baskets").collect()

    def trade_years(self, call: Call) -> pl.DataFrame:
        keys = ["year", "hs_edition", "source", "side", "release"]
        if self.derived:
            return self._scan("trade_summary").group_by(keys).agg(pl.col("flows").sum()).collect()
        return self._trade().group_by(keys).agg(pl.len().alias("flows")).collect()

    def exports_by_series_partner(self, call: Call) -> pl.DataFrame:
        lf = self.selected(call.params).rename({"importer": "partner"})
        return self._sums(lf, ["year", "series", "partner"])

    def _monthly(self, p: dict[str, Any]) -> pl.LazyFrame:
        """monthly_lines.sql and the window: the chosen codes' declarations, each with
        the chosen minerals it holds, and the source rank (a customs office first)."""
        if p.get("exact_minerals"):
            lines = self._scan("national_lines").filter(
                pl.col("mineral").is_in(list(p["exact_minerals"])) & (pl.col("grade") == "exact")
            )
            lines = lines.select(
                "classification", "hs_edition", "code", "valid_from", "valid_to", "mineral"
            )
        else:
            lines = self._scan("mineral_baskets").filter(
                pl.col("mineral").is_in(list(p.get("basket_minerals", [])))
            )
            lines = lines.select(
                pl.lit("HS").alias("classification"),
                "hs_edition",
                pl.col("hs6").alias("code"),
                pl.lit(None, pl.Int32).alias("valid_from"),
                pl.lit(None, pl.Int32).alias("valid_to"),
                "mineral",
            )
        lines = lines.group_by(
            "classification", "hs_edition", "code", "valid_from", "valid_to"
        ).agg(pl.col("mineral").unique().sort().alias("minerals"))
        ym = pl.col("year") * 100 + pl.col("month")
        return (
            self._scan("monthly_flows")
            .filter(ym.is_between(p["ym_from"], p["ym_to"]))
            .join(
                lines,
                left_on=["classification", "national_code", "hs_edition"],
                right_on=["classification", "code", "hs_edition"],
            )
            .filter(
                (pl.col("valid_from").is_null() | (pl.col("year") >= pl.col("valid_from")))
                & (pl.col("valid_to").is_null() | (pl.col("year") <= pl.col("valid_to")))
            )
            .with_columns(
                pl.when(pl.col("source") == "comtrade").then(2).otherwise(1).alias("rank")
            )
        )

    @staticmethod
    def _first_source(lf: pl.LazyFrame, keys: list[str]) -> pl.LazyFrame:
        return lf.filter(pl.col("rank") == pl.col("rank").min().over(keys))

    def monthly_by_partner(self, call: Call) -> pl.DataFrame:
        p = call.params
        exporter = p["exporter"]
        imported = pl.col("side") == "importer_reported"
        lf = self._monthly(p).filter(
            pl.col("side").is_in(list(p["sides"]))
            & (
                (imported & (pl.col("partner") == exporter))
                | (~imported & (pl.col("reporter") == exporter))
            )
        )
        keys = ["reporter", "partner", "side", "year", "month", "national_code"]
        return (
            self._first_source(lf, keys)
            .with_columns(
                pl.when(imported)
                .then(pl.col("reporter"))
                .otherwise(pl.col("partner"))
                .alias("partner")
            )
            .select(
                "year",
                "month",
                "partner",
                "reporter",
                "side",
                "source",
                "classification",
                "national_code",
                "hs6",
                "minerals",
                "value_usd",
                "value_native",
                "currency",
                "quantity_kg",
                "provisional",
                "vintage",
            )
            .collect()
        )

    def monthly_imports(self, call: Call) -> pl.DataFrame:
        p = call.params
        importers = list(p["importers"])
        lf = self._monthly(p).filter(
            (pl.col("side") == "importer_reported")
            & pl.col("reporter").is_in(importers)
            & ~pl.col("partner").is_in(importers)
        )
        keys = ["reporter", "partner", "year", "month", "national_code"]
        return (
            self._first_source(lf, keys)
            .select(
                "year",
                "month",
                pl.col("partner").alias("supplier"),
                "reporter",
                "source",
                "classification",
                "national_code",
                "hs6",
                "minerals",
                "value_usd",
                "value_native",
                "currency",
                "quantity_kg",
                "provisional",
            )
            .collect()
        )

    def monthly_reporting(self, call: Call) -> pl.DataFrame:
        p = call.params
        ym = (pl.col("year") * 100 + pl.col("month")).cast(pl.Int32)
        return (
            self._scan("monthly_flows")
            .filter(
                ym.is_between(p["ym_from"], p["ym_to"]) & pl.col("side").is_in(list(p["sides"]))
            )
            .group_by("reporter", "side", "source")
            .agg(
                ym.min().alias("first_ym"),
                ym.max().alias("last_ym"),
                ym.unique().sort().alias("months"),
                pl.col("vintage").max(),
            )
            .collect()
        )

    def answer(self, call: Call) -> pl.DataFrame:
        return _method(self, call.name)(call)


# --- pandas -----------------------------------------------------------------------------


def _every_flow(minerals: list[str]) -> dict[str, Any]:
    """selected_once's parameters for every basket flow of every year and side
    (quantity_coverage.sql)."""
    return {"minerals": minerals, "codes": [], "year_from": 0, "year_to": 9999, "stages": []}


def _market_params(call: Call) -> tuple[dict[str, Any], list[str]]:
    """suppliers_market's filter over every importer, and its buyers."""
    return {k: v for k, v in call.params.items() if k != "buyers"}, list(call.params["buyers"])


def _overview_parts(engine: PolarsLazy | PandasApp, call: Call) -> pl.DataFrame:
    """exports_overview's rows from an engine's own selected_once and sums: per year and
    series, per year and stage, and per partner in the last year."""
    once: Any = engine.selected_once(call.params)
    series, stages, partners = (
        engine._sums(once, ["year", key], counts=True, by_stage=key == "stage")
        for key in ("series", "stage", "importer")
    )
    return pl.concat(
        [
            series.with_columns(part=pl.lit("series")),
            stages.with_columns(part=pl.lit("stage")),
            partners.rename({"importer": "partner"})
            .filter(pl.col("year") == call.params["year_to"])
            .with_columns(part=pl.lit("partner")),
        ],
        how="diagonal_relaxed",
    )


def _to_polars(df: pd.DataFrame) -> pl.DataFrame:
    """pandas -> polars with categorical columns as plain strings (so keys compare)."""
    cats = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
    if cats:
        df = df.astype({c: str for c in cats})
    return pl.from_pandas(df.reset_index(drop=True))


class PandasApp:
    """A naive app: the whole trade table in a pandas DataFrame, filtered per request."""

    label = "pandas"

    def __init__(self, warehouse: Warehouse, categorical: bool = False, row_cap: int = 50_000):
        """Load every trade file's needed columns. With `categorical`, strings become
        pandas categoricals (about a third of the memory): what an app must do once the
        table no longer fits as plain strings."""
        self.categorical = categorical
        self.row_cap = row_cap
        files = warehouse.files("trade_flows")
        if not categorical:
            frames = []
            for path in files:
                frame = pd.read_parquet(path, columns=TRADE_COLUMNS)
                frame.insert(0, "year", np.int32(_year_of(str(path))))
                frames.append(frame)
            self.flows = pd.concat(frames, ignore_index=True)
        else:
            parts = [
                pq.read_table(path, columns=TRADE_COLUMNS).to_pandas(strings_to_categorical=True)
                for path in files
            ]
            columns: dict[str, Any] = {
                "year": np.concatenate(
                    [
                        np.full(len(f), _year_of(str(p)), dtype=np.int32)
                        for f, p in zip(parts, files, strict=True)
                    ]
                )
            }
            for column in TRADE_COLUMNS:
                if isinstance(parts[0][column].dtype, pd.CategoricalDtype):
                    columns[column] = union_categoricals([f[column] for f in parts])
                else:
                    columns[column] = np.concatenate([f[column].to_numpy() for f in parts])
                for f in parts:
                    del f[column]
            del parts
            self.flows = pd.DataFrame(columns)

        def table(name: str) -> pd.DataFrame:
            return pd.concat(pd.read_parquet(p) for p in warehouse.files(name))

        self.baskets = table("mineral_baskets")
        self.products = table("products").drop_duplicates(["hs_edition", "hs6"])
        self.production_table = table("production")
        self.events_table = table("events")
        self.deposits_table = table("deposits")
        self.countries_table = table("countries")

    @property
    def memory_bytes(self) -> int:
        return int(self.flows.memory_usage(deep=True).sum())

    def _where(self, p: dict[str, Any], hs6: list[str]) -> pd.DataFrame:
        df = self.flows
        mask = df["year"].between(p["year_from"], p["year_to"]) & df["hs6"].isin(hs6)
        for key, column in (
            ("sides", "side"),
            ("exporters", "exporter"),
            ("importers", "importer"),
        ):
            if p.get(key):
                mask &= df[column].isin(list(p[key]))
        out = df[mask]
        return out.astype(
            {c: str for c in out.columns if isinstance(out[c].dtype, pd.CategoricalDtype)}
        )

    def _chosen_baskets(self, p: dict[str, Any]) -> pd.DataFrame:
        return self.baskets[self.baskets["mineral"].isin(list(p["minerals"]))]

    def _basket_flows(self, p: dict[str, Any]) -> pd.DataFrame:
        baskets = self._chosen_baskets(p)[["mineral", "stage", "hs_edition", "hs6"]]
        flows = self._where(p, baskets["hs6"].unique().tolist())
        return flows.merge(baskets, on=["hs_edition", "hs6"])

    def _code_flows(self, p: dict[str, Any]) -> pd.DataFrame | None:
        if not p.get("codes"):
            return None
        flows = self._where(p, list(p["codes"]))
        return flows.assign(
            series="HS " + flows["hs6"], stage=None, series_stages=1, stage_key="HS " + flows["hs6"]
        )

    def _series_stages(self, p: dict[str, Any]) -> pd.DataFrame:
        baskets = self._chosen_baskets(p)
        if p.get("stages"):
            baskets = baskets[baskets["stage"].isin(list(p["stages"]))]
        return baskets.groupby(["mineral", "hs_edition"], as_index=False).agg(
            series_stages=("stage", "nunique")
        )

    def _owners(self, p: dict[str, Any]) -> pd.DataFrame:
        baskets = self._chosen_baskets(p)
        if p.get("stages"):
            baskets = baskets[baskets["stage"].isin(list(p["stages"]))]
        owners = baskets.sort_values("mineral").groupby(["hs_edition", "hs6"], as_index=False)
        owners = owners.agg(
            owner=("mineral", "first"),
            owner_stage=("stage", "first"),
            labels=("label", lambda s: ", ".join(sorted(set(s)))),
        )
        stages = owners.groupby(["hs_edition", "labels"])["owner_stage"].transform("nunique")
        return owners.assign(series_stages=stages)

    @staticmethod
    def _union(basket: pd.DataFrame, codes: pd.DataFrame | None) -> pd.DataFrame:
        columns = ["series", "stage", *FLOW_COLUMNS, "series_stages", "stage_key"]
        parts = [basket[columns]] + ([codes[columns]] if codes is not None else [])
        return pd.concat(parts, ignore_index=True)

    def selected(self, p: dict[str, Any]) -> pd.DataFrame:
        basket = self._basket_flows(p)
        if p.get("stages"):
            basket = basket[basket["stage"].isin(list(p["stages"]))]
        basket = basket.merge(self._series_stages(p), on=["mineral", "hs_edition"])
        return self._union(
            basket.assign(series=basket["mineral"], stage_key=basket["stage"]), self._code_flows(p)
        )

    def selected_once(self, p: dict[str, Any]) -> pd.DataFrame:
        owners = self._owners(p)
        basket = self._basket_flows(p).merge(
            owners.drop(columns="owner_stage").rename(
                columns={"owner": "mineral", "labels": "series"}
            ),
            on=["hs_edition", "hs6", "mineral"],
        )
        basket = basket.assign(stage_key=basket["stage"])
        codes = self._code_flows(p)
        if codes is not None:
            held = pd.MultiIndex.from_frame(owners[["hs_edition", "hs6"]])
            codes = codes[~pd.MultiIndex.from_frame(codes[["hs_edition", "hs6"]]).isin(held)]
        return self._union(basket, codes)

    @staticmethod
    def _sums(
        df: pd.DataFrame, keys: list[str], counts: bool = False, by_stage: bool = False
    ) -> pl.DataFrame:
        aggs: dict[str, tuple[str, str]] = {
            "value_usd": ("value_usd", "sum"),
            "quantity_kg": ("quantity_kg", "sum"),
            "_stages": ("series_stages", "max"),
            "_keys": ("stage_key", "nunique"),
        }
        if counts:
            df = df.assign(vq=df["value_usd"].where(df["quantity_kg"].notna(), 0.0))
            aggs |= {"value_with_quantity_usd": ("vq", "sum"), "flows": ("value_usd", "size")}
        out = df.groupby(keys, as_index=False, dropna=False).agg(**aggs)
        # Tonnes only within one value-chain stage (see the module's docstring).
        one = (out["_keys"] <= 1) & ((out["_stages"] <= 1) | by_stage)
        out["quantity_kg"] = out["quantity_kg"].where(one)
        if counts:
            out["value_with_quantity_usd"] = out["value_with_quantity_usd"].where(one)
        return _to_polars(out.drop(columns=["_stages", "_keys"]))

    def exports_by_series(self, call: Call) -> pl.DataFrame:
        return self._sums(self.selected(call.params), ["year", "series"], counts=True)

    def exports_total(self, call: Call) -> pl.DataFrame:
        return self._sums(self.selected_once(call.params), ["year", "series"], counts=True)

    def exports_by_stage(self, call: Call) -> pl.DataFrame:
        return self._sums(self.selected_once(call.params), ["year", "stage"], by_stage=True)

    def exports_by_partner(self, call: Call) -> pl.DataFrame:
        df = self.selected_once(call.params).rename(columns={"importer": "partner"})
        return self._sums(df, ["year", "partner"])

    def exports_overview(self, call: Call) -> pl.DataFrame:
        return _overview_parts(self, call)

    def exporters_by_series(self, call: Call) -> pl.DataFrame:
        return self._sums(self.selected(call.params), ["year", "series", "exporter"])

    def exports_by_partner_and_stage(self, call: Call) -> pl.DataFrame:
        df = self.selected_once(call.params).rename(columns={"importer": "partner"})
        return self._sums(df, ["year", "partner", "stage"], counts=True, by_stage=True)

    def exporters_by_stage(self, call: Call) -> pl.DataFrame:
        keys = ["year", "exporter", "stage"]
        return self._sums(self.selected_once(call.params), keys, counts=True, by_stage=True)

    def exporters_total(self, call: Call) -> pl.DataFrame:
        return self._sums(self.selected_once(call.params), ["year", "series", "exporter"])

    def quantity_coverage(self, call: Call) -> pl.DataFrame:
        df = self.selected_once(_every_flow(list(self.baskets["mineral"].unique())))
        df = df.assign(vq=df["value_usd"].where(df["quantity_kg"].notna(), 0.0))
        out = df.groupby(["source", "release", "side", "year"], as_index=False).agg(
            flows=("value_usd", "size"),
            with_quantity=("quantity_kg", "count"),
            value_usd=("value_usd", "sum"),
            value_with_quantity_usd=("vq", "sum"),
        )
        return _to_polars(out)

    def code_texts(self, call: Call) -> pl.DataFrame:
        p = self.products
        return _to_polars(p[p["hs_edition"].isin(list(call.params["editions"]))])

    def imports_by_supplier(self, call: Call) -> pl.DataFrame:
        df = self.selected(call.params)
        df = df[~df["exporter"].isin(list(call.params["importers"]))]
        return self._sums(
            df.rename(columns={"exporter": "supplier"}), ["year", "series", "supplier"]
        )

    def suppliers_market(self, call: Call) -> pl.DataFrame:
        world, buyers = _market_params(call)
        df = self.selected(world)
        bought = df["importer"].isin(buyers) & ~df["exporter"].isin(buyers)
        df = df.assign(
            bought_usd=df["value_usd"].where(bought),
            bought_kg=df["quantity_kg"].where(bought),
            bought_flows=bought.astype("int64"),
        )
        out = df.groupby(["year", "series", "exporter"], as_index=False, dropna=False).agg(
            value_usd=("value_usd", "sum"),
            quantity_kg=("quantity_kg", "sum"),
            bought_usd=("bought_usd", "sum"),
            bought_kg=("bought_kg", "sum"),
            bought_flows=("bought_flows", "sum"),
            _stages=("series_stages", "max"),
            _keys=("stage_key", "nunique"),
        )
        one = (out["_keys"] <= 1) & (out["_stages"] <= 1)
        out["quantity_kg"] = out["quantity_kg"].where(one)
        out["bought_kg"] = out["bought_kg"].where(one)
        return _to_polars(out.drop(columns=["_stages", "_keys"]))

    def mirror_flows(self, call: Call) -> pl.DataFrame:
        df = self.selected_once(call.params).rename(columns={"importer": "partner"})
        out = df.groupby(["year", "partner", "side", "source"], as_index=False).agg(
            value_usd=("value_usd", "sum")
        )
        return _to_polars(out)

    def flows_explorer(self, call: Call) -> pl.DataFrame:
        df = self.selected_once(call.params).merge(
            self.products[["hs_edition", "hs6", "description"]],
            on=["hs_edition", "hs6"],
            how="left",
        )
        quantity = df["quantity_kg"].where(df["quantity_kg"] != 0)
        df = df.assign(unit_value_usd_per_kg=df["value_usd"] / quantity)[EXPLORER_OUTPUT]
        if spec := _sort_spec(call):
            df = df.sort_values(spec[0], ascending=[not d for d in spec[1]], na_position="last")
        return _to_polars(df.head(_cap(call, self.row_cap)))

    def production(self, call: Call) -> pl.DataFrame:
        t = self.production_table
        return _to_polars(t[t["country"].isin(list(call.params["countries"]))])

    def events(self, call: Call) -> pl.DataFrame:
        return _to_polars(self.events_table.sort_values(["date", "title"]))

    def deposits(self, call: Call) -> pl.DataFrame:
        sites = self._sites(call.params).sort_values(["country", "name", "id"])
        return _to_polars(sites.head(_cap(call, self.row_cap)))

    def site_points(self, call: Call) -> pl.DataFrame:
        return _to_polars(self._sites(call.params)[SITE_POINT_COLUMNS])

    def _sites(self, p: dict[str, Any]) -> pd.DataFrame:
        t = self.deposits_table
        mask = pd.Series(True, index=t.index)
        if p.get("countries"):
            mask &= t["country"].isin(list(p["countries"]))
        if p.get("commodities"):
            wanted = set(p["commodities"])
            mask &= t["commodities"].map(lambda c: bool(wanted.intersection(c)))
        if p.get("statuses"):
            mask &= t["status"].isin(list(p["statuses"]))
        return t[mask]

    def countries(self, call: Call) -> pl.DataFrame:
        return _to_polars(self.countries_table)

    def answer(self, call: Call) -> pl.DataFrame:
        return _method(self, call.name)(call)


Engine = PandasApp | PolarsLazy


def _method(engine: Engine, name: str) -> Callable[[Call], pl.DataFrame]:
    method = getattr(type(engine), name, None)
    if name.startswith("_") or method is None or name in {"answer", "selected", "selected_once"}:
        raise NoBaseline(f"{engine.label} has no version of {name}.sql")
    return getattr(engine, name)


# --- comparison -------------------------------------------------------------------------


def _close(a: object, b: object, rel: float = 1e-6) -> bool:
    x = 0.0 if a is None else float(a)  # type: ignore[arg-type]
    y = 0.0 if b is None else float(b)  # type: ignore[arg-type]
    x = 0.0 if math.isnan(x) else x
    y = 0.0 if math.isnan(y) else y
    return math.isclose(x, y, rel_tol=rel, abs_tol=0.01)


def _keyed(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Key columns as text (dates as dates), so engines' dtypes compare."""
    cast = []
    for key in keys:
        dtype = frame.schema[key]
        column = pl.col(key)
        if dtype == pl.Datetime or dtype == pl.Date:
            column = column.cast(pl.Date)
        elif dtype.is_numeric():
            column = column.cast(pl.Int64)
        cast.append(column.cast(pl.String))
    return frame.with_columns(cast).sort(keys, nulls_last=True)


def compare(name: str, reference: pl.DataFrame, other: pl.DataFrame) -> str | None:
    """None if `other` answers like `reference`, else what differs.

    Rows are matched on the query's keys (`KEYS`); numeric columns must agree within
    1e-6 (a missing quantity and 0 count as equal, as pandas sums nothing to 0)."""
    if reference.height != other.height:
        return f"{name}: {reference.height} rows vs {other.height}"
    keys = KEYS.get(name)
    if keys is None:
        return None
    missing = [c for c in reference.columns if c not in other.columns]
    if missing:
        return f"{name}: columns {missing} missing"
    left, right = _keyed(reference, keys), _keyed(other, keys)
    if left.select(keys).rows() != right.select(keys).rows():
        return f"{name}: different groups"
    for column in reference.columns:
        if column in keys or not reference.schema[column].is_numeric():
            continue
        if not other.schema[column].is_numeric():
            return f"{name}: column {column} is not numeric"
        for a, b in zip(left[column].to_list(), right[column].to_list(), strict=True):
            if not _close(a, b):
                return f"{name}: column {column} differs ({a} vs {b})"
    return None
