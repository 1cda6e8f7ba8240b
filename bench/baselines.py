"""The same page questions answered two other ways, for comparison.

`PandasApp` is the typical Streamlit app: it reads the needed columns of every
trade_flows Parquet file into one pandas DataFrame once (what `st.cache_data`
would keep) and filters and groups it in memory per request. `PolarsLazy`
builds a `pl.scan_parquet` (hive partitioning) plan per request over the same
files; with `derived=True` it scans the derived `mineral_flows` files the app's
queries read instead, so the engines are compared on identical Parquet. All
return polars frames with the columns of the SQL queries, so `compare` can
check the approaches give the same numbers.
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

from bench.pages import EXPLORER_LIMIT, PAGES, Filters
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
]
KEYS: dict[str, list[str]] = {
    "exports_by_series": ["year", "series"],
    "exports_by_partner": ["year", "series", "partner"],
    "exporters_by_series": ["year", "series", "exporter"],
    "imports_by_supplier": ["year", "series", "supplier"],
    "mirror_flows": ["year", "series", "partner", "side", "source"],
}


def _year_of(path: str) -> int:
    for segment in reversed(path.split("/")):
        if segment.startswith("year="):
            return int(segment.split("=", 1)[1])
    raise ValueError(f"{path}: no year=YYYY directory")


def _to_polars(df: pd.DataFrame) -> pl.DataFrame:
    """pandas -> polars with categorical columns as plain strings (so keys compare)."""
    cats = [c for c in df.columns if isinstance(df[c].dtype, pd.CategoricalDtype)]
    if cats:
        df = df.astype({c: str for c in cats})
    return pl.from_pandas(df)


# --- pandas ---------------------------------------------------------------------------


class PandasApp:
    """A naive app: the whole table in a pandas DataFrame, filtered per request."""

    def __init__(self, warehouse: Warehouse, categorical: bool = False):
        """Load every trade file's needed columns. With `categorical`, strings become
        pandas categoricals (about a third of the memory): what an app must do once the
        table no longer fits as plain strings."""
        self.categorical = categorical
        files = warehouse.files("trade_flows")
        if not categorical:
            frames = []
            for path in files:
                frame = pd.read_parquet(path, columns=TRADE_COLUMNS)
                frame.insert(0, "year", _year_of(str(path)))
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
        self.baskets = pd.concat(pd.read_parquet(p) for p in warehouse.files("mineral_baskets"))
        self.products = pd.concat(pd.read_parquet(p) for p in warehouse.files("products"))
        self.production = pd.concat(pd.read_parquet(p) for p in warehouse.files("production"))
        self.events = pd.concat(pd.read_parquet(p) for p in warehouse.files("events"))
        self.deposits = pd.concat(pd.read_parquet(p) for p in warehouse.files("deposits"))

    @property
    def memory_bytes(self) -> int:
        return int(self.flows.memory_usage(deep=True).sum())

    def _selection(self, f: Filters) -> pd.DataFrame:
        chosen = self.baskets[self.baskets["mineral"].isin(f.minerals)]
        return chosen[["mineral", "hs_edition", "hs6"]].rename(columns={"mineral": "series"})

    def _flows(self, f: Filters, *, exporter: bool = True, side: bool = True) -> pd.DataFrame:
        df = self.flows
        mask = df["year"].between(f.year_from, f.year_to)
        if exporter:
            mask &= df["exporter"] == f.exporter
        if side:
            mask &= df["side"] == f.side
        return df[mask].merge(self._selection(f), on=["hs6", "hs_edition"])

    @staticmethod
    def _sum(df: pd.DataFrame, keys: list[str], rename: dict[str, str]) -> pl.DataFrame:
        out = (
            df.groupby(keys, as_index=False)
            .agg(value_usd=("value_usd", "sum"), quantity_kg=("quantity_kg", "sum"))
            .rename(columns=rename)
        )
        return _to_polars(out)

    def exports_by_series(self, f: Filters) -> pl.DataFrame:
        df = self._flows(f)
        df = df.assign(vq=df["value_usd"].where(df["quantity_kg"].notna(), 0.0))
        out = df.groupby(["year", "series"], as_index=False).agg(
            value_usd=("value_usd", "sum"),
            quantity_kg=("quantity_kg", "sum"),
            value_with_quantity_usd=("vq", "sum"),
            flows=("value_usd", "size"),
        )
        return _to_polars(out)

    def exports_by_partner(self, f: Filters) -> pl.DataFrame:
        return self._sum(self._flows(f), ["year", "series", "importer"], {"importer": "partner"})

    def exporters_by_series(self, f: Filters) -> pl.DataFrame:
        return self._sum(self._flows(f, exporter=False), ["year", "series", "exporter"], {})

    def imports_by_supplier(self, f: Filters) -> pl.DataFrame:
        df = self._flows(f, exporter=False)
        df = df[(df["importer"] == f.importer) & (df["exporter"] != f.importer)]
        return self._sum(df, ["year", "series", "exporter"], {"exporter": "supplier"})

    def mirror_flows(self, f: Filters) -> pl.DataFrame:
        df = self._flows(f, side=False)
        out = df.groupby(["year", "series", "importer", "side", "source"], as_index=False).agg(
            value_usd=("value_usd", "sum")
        )
        return _to_polars(out.rename(columns={"importer": "partner"}))

    def flows_explorer(self, f: Filters) -> pl.DataFrame:
        df = self._flows(f)
        df = df.merge(
            self.products[["hs_edition", "hs6", "description"]],
            on=["hs_edition", "hs6"],
            how="left",
        )
        df = df.sort_values(["year", "value_usd"], ascending=False).head(EXPLORER_LIMIT)
        return _to_polars(df.reset_index(drop=True))

    def production_(self, f: Filters) -> pl.DataFrame:
        return _to_polars(self.production[self.production["country"] == f.exporter])

    def events_(self, f: Filters) -> pl.DataFrame:
        return _to_polars(self.events.sort_values("date").reset_index(drop=True))

    def deposits_(self, f: Filters) -> pl.DataFrame:
        return _to_polars(
            self.deposits[self.deposits["country"] == f.exporter].reset_index(drop=True)
        )

    def run_page(self, page: str, f: Filters) -> dict[str, pl.DataFrame]:
        return {name: _method(self, name)(f) for name, _ in PAGES[page]}


# --- polars lazy --------------------------------------------------------------------------


class PolarsLazy:
    """Lazy scans of the same Parquet files, one plan per request."""

    def __init__(self, warehouse: Warehouse, derived: bool = False):
        self.warehouse = warehouse
        self.derived = derived
        self.flow_files = [str(p) for p in warehouse.files("trade_flows")]
        self.derived_files = [str(p) for p in warehouse.files("mineral_flows")]

    def _scan(self, table: str) -> pl.LazyFrame:
        return pl.scan_parquet([str(p) for p in self.warehouse.files(table)])

    def _flows_scan(self) -> pl.LazyFrame:
        return pl.scan_parquet(self.flow_files, hive_partitioning=True)

    def _selection(self, f: Filters) -> pl.LazyFrame:
        return (
            self._scan("mineral_baskets")
            .filter(pl.col("mineral").is_in(list(f.minerals)))
            .select(pl.col("mineral").alias("series"), "hs_edition", "hs6")
        )

    def _flows(self, f: Filters, *, exporter: bool = True, side: bool = True) -> pl.LazyFrame:
        if self.derived:
            lf = (
                pl.scan_parquet(self.derived_files)
                .filter(pl.col("mineral").is_in(list(f.minerals)))
                .rename({"mineral": "series"})
            )
        else:
            selection = self._selection(f).collect()
            lf = self._flows_scan().filter(pl.col("hs6").is_in(selection["hs6"].unique().implode()))
        lf = lf.filter(pl.col("year").is_between(f.year_from, f.year_to))
        if exporter:
            lf = lf.filter(pl.col("exporter") == f.exporter)
        if side:
            lf = lf.filter(pl.col("side") == f.side)
        return lf if self.derived else lf.join(selection.lazy(), on=["hs6", "hs_edition"])

    @staticmethod
    def _sum(lf: pl.LazyFrame, keys: list[str]) -> pl.DataFrame:
        return (
            lf.group_by(keys).agg(pl.col("value_usd").sum(), pl.col("quantity_kg").sum()).collect()
        )

    def exports_by_series(self, f: Filters) -> pl.DataFrame:
        return (
            self._flows(f)
            .group_by("year", "series")
            .agg(
                pl.col("value_usd").sum(),
                pl.col("quantity_kg").sum(),
                pl.col("value_usd")
                .filter(pl.col("quantity_kg").is_not_null())
                .sum()
                .alias("value_with_quantity_usd"),
                pl.len().alias("flows"),
            )
            .collect()
        )

    def exports_by_partner(self, f: Filters) -> pl.DataFrame:
        return self._sum(
            self._flows(f).rename({"importer": "partner"}), ["year", "series", "partner"]
        )

    def exporters_by_series(self, f: Filters) -> pl.DataFrame:
        return self._sum(self._flows(f, exporter=False), ["year", "series", "exporter"])

    def imports_by_supplier(self, f: Filters) -> pl.DataFrame:
        lf = self._flows(f, exporter=False).filter(
            pl.col("importer") == f.importer, pl.col("exporter") != f.importer
        )
        return self._sum(lf.rename({"exporter": "supplier"}), ["year", "series", "supplier"])

    def mirror_flows(self, f: Filters) -> pl.DataFrame:
        return (
            self._flows(f, side=False)
            .rename({"importer": "partner"})
            .group_by("year", "series", "partner", "side", "source")
            .agg(pl.col("value_usd").sum())
            .collect()
        )

    def flows_explorer(self, f: Filters) -> pl.DataFrame:
        products = self._scan("products").select("hs_edition", "hs6", "description")
        return (
            self._flows(f)
            .join(products, on=["hs_edition", "hs6"], how="left")
            .sort(["year", "value_usd"], descending=True)
            .head(EXPLORER_LIMIT)
            .collect()
        )

    def production_(self, f: Filters) -> pl.DataFrame:
        return self._scan("production").filter(pl.col("country") == f.exporter).collect()

    def events_(self, f: Filters) -> pl.DataFrame:
        return self._scan("events").sort("date").collect()

    def deposits_(self, f: Filters) -> pl.DataFrame:
        return self._scan("deposits").filter(pl.col("country") == f.exporter).collect()

    def run_page(self, page: str, f: Filters) -> dict[str, pl.DataFrame]:
        return {name: _method(self, name)(f) for name, _ in PAGES[page]}


def _method(engine: PandasApp | PolarsLazy, name: str) -> Callable[[Filters], pl.DataFrame]:
    """The engine's version of a query (reference-table queries carry a trailing _)."""
    method = getattr(engine, f"{name}_", None) or getattr(engine, name)
    return method


# --- comparison -------------------------------------------------------------------------


def _close(a: object, b: object, rel: float = 1e-6) -> bool:
    x = 0.0 if a is None else float(a)  # type: ignore[arg-type]
    y = 0.0 if b is None else float(b)  # type: ignore[arg-type]
    x = 0.0 if math.isnan(x) else x
    y = 0.0 if math.isnan(y) else y
    return math.isclose(x, y, rel_tol=rel, abs_tol=0.01)


def compare(name: str, reference: pl.DataFrame, other: pl.DataFrame) -> str | None:
    """None if `other` answers like `reference` (within tolerance), else what differs.

    Aggregates are compared row by row on their keys (a missing quantity and 0 count
    as equal, since pandas sums nothing to 0); the explorer and the reference-table
    queries on row count and total value."""
    if reference.height != other.height:
        return f"{name}: {reference.height} rows vs {other.height}"
    if name not in KEYS:
        if "value_usd" in reference.columns and not _close(
            reference["value_usd"].sum(), other["value_usd"].sum()
        ):
            return f"{name}: total value differs"
        return None
    keys = KEYS[name]
    left = reference.with_columns(pl.col("year").cast(pl.Int64)).sort(keys)
    right = other.with_columns(pl.col("year").cast(pl.Int64)).sort(keys)
    if left.select(keys).rows() != right.select(keys).rows():
        return f"{name}: different groups"
    for column in reference.columns:
        if column in keys:
            continue
        for a, b in zip(left[column].to_list(), right[column].to_list(), strict=True):
            if not _close(a, b):
                return f"{name}: column {column} differs ({a} vs {b})"
    return None
