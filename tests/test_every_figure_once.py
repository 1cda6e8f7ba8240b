"""Every figure exactly once, whatever parts the warehouse holds.

Generated warehouses hold several trade parts (a BACI release, Comtrade's two
declarations, the demo), product texts from two parts (the bundled texts and a
release's own dictionary, overlapping) and the real mineral baskets, in which some
codes sit in several baskets (811292: gallium, germanium, indium, niobium,
vanadium). For a generated filter, the Data explorer's rows and each of its three
downloads must hold each matching flow once (same count, same sum as the warehouse
computed directly), and so must the Overview's, Partners' and Suppliers' totals. The
explorer's grouped results sum exactly the flows they group: by any dimension (and in a
pivot) the rows add up to the total, the total is the flows' sum, a row split by
mineral holds that basket's flows, and the downloads hold the same figures.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from conftest import monthly_row
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from critmin import derive, reference
from critmin.catalog import Catalog, load_catalog
from critmin.db import Database, open_database
from critmin.filters import DIMENSIONS
from critmin.reference_tables import write_reference_tables
from critmin.settings import Settings
from critmin.ui import downloads
from critmin.views import explorer, overview, partners, suppliers
from critmin.warehouse import Warehouse

EDITION = "HS12"
COUNTRIES = ["KAZ", "CHN", "RUS", "USA", "DEU", "KOR", "UZB"]
YEARS = [2020, 2021, 2022]
MINERALS = ["gallium", "germanium", "graphite", "chromium", "manganese_sulfate"]
OTHER_CODE = "010121"  # horses: in no basket


def basket_codes() -> dict[str, set[str]]:
    baskets = reference.load_mineral_baskets().filter(pl.col("hs_edition") == EDITION)
    return {m: set(baskets.filter(pl.col("mineral") == m)["hs6"].to_list()) for m in MINERALS}


CODES = sorted(set().union(*basket_codes().values()) | {OTHER_CODE})

flow_keys = st.tuples(
    st.sampled_from(YEARS),
    st.sampled_from(CODES),
    st.sampled_from(COUNTRIES),
    st.sampled_from(COUNTRIES),
).filter(lambda k: k[2] != k[3])
values = st.floats(min_value=1_001, max_value=5e8, allow_nan=False).map(lambda v: round(v))
# (source, side) pairs a warehouse can hold, each its own part.
PARTS = {
    "baci": ("baci", "reconciled"),
    "comtrade_x": ("comtrade", "exporter_reported"),
    "comtrade_m": ("comtrade", "importer_reported"),
}


def trade_part(
    rows: list[tuple[tuple[int, str, str, str], float]], source: str, side: str
) -> pl.DataFrame:
    unique = {key: value for key, value in rows}  # one row per flow and part, as in BACI
    return pl.DataFrame(
        [
            {
                "year": year,
                "hs_edition": EDITION,
                "hs6": hs6,
                "exporter": exporter,
                "importer": importer,
                "value_usd": float(value),
                "quantity_kg": float(value) / 3.0,
                "source": source,
                "side": side,
                "release": "V1",
            }
            for (year, hs6, exporter, importer), value in sorted(unique.items())
        ],
        schema_overrides={"year": pl.Int32},
    )


def build(root: Path, parts: dict[str, pl.DataFrame], dictionary: list[str]) -> Warehouse:
    warehouse = Warehouse(root)
    with warehouse.transaction(derived=derive.refresh) as tx:
        write_reference_tables(tx)
        for name, frame in parts.items():
            tx.write_frame("trade_flows", name, frame, source=frame["source"][0], release="V1")
        # A release's own product texts for some codes, beside the bundled ones.
        texts = pl.DataFrame(
            {
                "hs_edition": [EDITION] * len(dictionary),
                "hs6": dictionary,
                "description": [f"release text {c}" for c in dictionary],
                "source": ["baci"] * len(dictionary),
            },
            schema={
                "hs_edition": pl.String,
                "hs6": pl.String,
                "description": pl.String,
                "source": pl.String,
            },
        )
        tx.write_frame("products", "baci", texts, source="baci", release="V1")
    return warehouse


def expected(
    flows: pl.DataFrame, minerals: tuple[str, ...], codes: tuple[str, ...]
) -> pl.DataFrame:
    """The matching flows, straight from the parts: a flow matches when its code is in
    a chosen basket or chosen directly; it counts once however many baskets hold it."""
    chosen = set(codes).union(*(basket_codes()[m] for m in minerals))
    return flows.filter(pl.col("hs6").is_in(sorted(chosen)))


@st.composite
def cases(draw: st.DrawFn) -> tuple[dict[str, pl.DataFrame], dict[str, object]]:
    parts: dict[str, pl.DataFrame] = {}
    for name in draw(st.sets(st.sampled_from(sorted(PARTS)), min_size=1)):
        rows = draw(st.lists(st.tuples(flow_keys, values), min_size=1, max_size=25))
        parts[name] = trade_part(rows, *PARTS[name])
    ask = {
        "minerals": tuple(
            draw(st.lists(st.sampled_from(MINERALS), min_size=1, max_size=3, unique=True))
        ),
        "codes": tuple(draw(st.lists(st.sampled_from(CODES), max_size=2, unique=True))),
        "exporters": tuple(draw(st.lists(st.sampled_from(COUNTRIES), max_size=2, unique=True))),
        "sides": tuple(
            draw(
                st.lists(
                    st.sampled_from(sorted({s for _, s in PARTS.values()})), max_size=2, unique=True
                )
            )
        ),
        # A dimension to group by (the pivot over years is checked every time).
        "dimension": draw(st.sampled_from(DIMENSIONS)),
        # The release's dictionary describes every code, or some of them.
        "dictionary": draw(
            st.one_of(st.just(CODES), st.lists(st.sampled_from(CODES), max_size=6, unique=True))
        ),
    }
    return parts, ask


@pytest.mark.slow
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(case=cases())
def test_every_flow_once_on_every_page_and_download(
    tmp_path_factory: pytest.TempPathFactory, case
) -> None:
    parts, ask = case
    root = tmp_path_factory.mktemp("wh") / "warehouse"
    build(root, parts, list(ask["dictionary"]))  # type: ignore[arg-type]
    db = open_database(Settings(data_dir=root, data_dir_is_default=False, row_cap=100_000))
    catalog = load_catalog(db)
    flows = pl.concat(parts.values())
    minerals, codes = ask["minerals"], ask["codes"]
    exporters, sides = ask["exporters"], ask["sides"]
    assert isinstance(minerals, tuple) and isinstance(codes, tuple)
    assert isinstance(exporters, tuple) and isinstance(sides, tuple)

    # Data explorer and its downloads.
    state = explorer.State(
        exporters, (), minerals, codes, YEARS[0], YEARS[-1], sides, "value_usd", "desc"
    )
    rows = explorer.build(db, catalog, state).rows
    want = expected(flows, minerals, codes)
    if exporters:
        want = want.filter(pl.col("exporter").is_in(list(exporters)))
    if sides:
        want = want.filter(pl.col("side").is_in(list(sides)))
    total = float(want["value_usd"].sum())
    assert (
        rows.height,
        float(rows["value_usd_m"].sum()) * 1e6 if rows.height else 0.0,
    ) == pytest.approx((want.height, total))
    if rows.height:
        keys = ("year", "hs6", "exporter_iso3", "importer_iso3", "side")
        assert rows.select(keys).is_duplicated().sum() == 0
        from_csv = pl.read_csv(io.BytesIO(downloads.to_csv(rows)))
        from_parquet = pl.read_parquet(io.BytesIO(downloads.to_parquet(rows)))
        sheet = openpyxl.load_workbook(io.BytesIO(downloads.to_excel(rows))).active
        header = [c.value for c in next(sheet.iter_rows(max_row=1))]
        excel_values = [
            r[header.index("value_usd_m")] * 1e6
            for r in sheet.iter_rows(min_row=2, values_only=True)
        ]
        for got in (
            (from_csv["value_usd_m"] * 1e6).to_list(),
            (from_parquet["value_usd_m"] * 1e6).to_list(),
            excel_values,
        ):
            assert (len(got), sum(got)) == pytest.approx((want.height, total))
        # One text per code and edition: the release's own where it has one.
        own = set(ask["dictionary"])  # type: ignore[arg-type]
        for hs6, text in rows.select("hs6", "description").iter_rows():
            assert (text == f"release text {hs6}") == (hs6 in own)

    # The explorer's grouped results: every dimension, each flow once in the totals.
    dimension = str(ask["dimension"])
    grouped_sums_equal_the_flows(db, catalog, state, want, minerals, dimension)

    # Overview: every basket, each flow once, for one exporter and the default side.
    country = exporters[0] if exporters else "KAZ"
    side = catalog.default_side()
    all_baskets = set().union(*basket_codes().values())
    every = reference.load_mineral_baskets().filter(pl.col("hs_edition") == EDITION)
    everything = flows.filter(pl.col("hs6").is_in(every["hs6"].unique().to_list()))
    latest = everything.filter(
        (pl.col("exporter") == country) & (pl.col("side") == side) & (pl.col("year") == YEARS[-1])
    )
    view = overview.build(db, catalog, overview.State(country, YEARS[0], YEARS[-1]))
    shown = view.headline.latest_usd if view.headline else 0.0
    assert shown == pytest.approx(float(latest["value_usd"].sum()))
    assert float(
        view.by_mineral.filter(pl.col("year") == YEARS[-1])["value_usd"].sum()
    ) == pytest.approx(shown)
    del all_baskets

    # Partners: the chosen baskets, each flow once, over the years.
    p = partners.build(
        db,
        catalog,
        partners.State(
            country=country,
            minerals=minerals,
            codes=codes,
            stages=(),
            year_from=YEARS[0],
            year_to=YEARS[-1],
            side=side,
            compare=(),
            scale="10000",
            by="group",
        ),
    )
    mine = expected(flows, minerals, codes).filter(
        (pl.col("exporter") == country) & (pl.col("side") == side)
    )
    assert float(p.by_partner["value_usd"].sum()) == pytest.approx(float(mine["value_usd"].sum()))

    # Suppliers: the world market of one basket in the last year.
    mineral = minerals[0]
    s = suppliers.build(
        db, catalog, suppliers.State(mineral, YEARS[0], YEARS[-1], country, (), "USA", side)
    )
    world = expected(flows, (mineral,), ()).filter(
        (pl.col("side") == side) & (pl.col("year") == YEARS[-1])
    )
    assert s.world_latest_usd == pytest.approx(float(world["value_usd"].sum()))


def grouped_sums_equal_the_flows(
    db: Database,
    catalog: Catalog,
    state: explorer.State,
    want: pl.DataFrame,
    minerals: tuple[str, ...],
    dimension: str,
) -> None:
    """Grouped by a dimension, and as a pivot over years: the total row is the flows'
    sum (each flow once), rows add up to it (but rows split by mineral, which hold each
    basket's flows), and a pivot's cells, row totals and column totals agree."""
    total = float(want["value_usd"].sum())
    view = explorer.build(db, catalog, replace(state, group=(dimension,)))
    if want.is_empty():
        assert view.rows.is_empty()
        return
    label = view.rows.columns[0]
    last = view.rows.row(-1, named=True)
    body = view.rows.head(-1)
    assert last[label] == explorer.TOTAL, dimension
    assert last["value_usd_m"] * 1e6 == pytest.approx(total), dimension
    assert last["flows"] == want.height, dimension
    if dimension == "mineral":  # each basket's own flows, its shared codes included
        for mineral in minerals:
            own = want.filter(pl.col("hs6").is_in(sorted(basket_codes()[mineral])))
            row = body.filter(pl.col("mineral") == catalog.mineral_label(mineral))
            got = float(row["value_usd_m"].sum()) * 1e6
            assert got == pytest.approx(float(own["value_usd"].sum())), mineral
    else:
        assert body["value_usd_m"].sum() * 1e6 == pytest.approx(total), dimension
        assert body["flows"].sum() == want.height, dimension
    # Downloads hold the grouped table as shown, its total row included.
    from_csv = pl.read_csv(io.BytesIO(downloads.to_csv(view.rows)))
    assert from_csv.height == view.rows.height
    assert from_csv["value_usd_m"].to_list() == pytest.approx(view.rows["value_usd_m"].to_list())

    pivot = explorer.build(db, catalog, replace(state, group=("partner_group",), across="year"))
    table = pivot.rows
    assert pivot.pivoted
    years = [str(y) for y in YEARS if str(y) in table.columns]
    cells = table.head(-1).select(years).fill_null(0)
    assert table.row(-1, named=True)[explorer.TOTAL] * 1e6 == pytest.approx(total)
    assert cells.sum_horizontal().to_list() == pytest.approx(
        table.head(-1)[explorer.TOTAL].to_list()
    )
    for year in years:
        in_year = float(want.filter(pl.col("year") == int(year))["value_usd"].sum())
        assert table[year][-1] * 1e6 == pytest.approx(in_year), year
        assert cells[year].sum() * 1e6 == pytest.approx(in_year), year


# --- monthly declarations ------------------------------------------------------------------

MONTHLY_REPORTERS = ["USA", "CHN", "DEU", "KOR"]
MONTHLY_CODES = {"811292": ["8112921000", "81129289"], "283329": [], "250410": []}
SOURCES_OF = {"USA": ["census", "comtrade"], "DEU": ["comext", "comtrade"]}

monthly_keys = st.tuples(
    st.sampled_from(MONTHLY_REPORTERS),
    st.sampled_from(["KAZ", "UZB", "RUS"]),
    st.sampled_from(sorted(MONTHLY_CODES)),
    st.integers(min_value=1, max_value=6),
)


@st.composite
def monthly_cases(draw: st.DrawFn) -> list[dict]:
    rows: dict[tuple[str, str, str, str, int], dict] = {}
    for (reporter, partner, hs6, month), value in draw(
        st.lists(st.tuples(monthly_keys, values), min_size=1, max_size=30)
    ):
        for source in draw(
            st.lists(
                st.sampled_from(SOURCES_OF.get(reporter, ["comtrade"])), min_size=1, unique=True
            )
        ):
            rows[(source, reporter, partner, hs6, month)] = monthly_row(
                source, reporter, partner, hs6, month, float(value)
            )
            lines = [
                c
                for c in MONTHLY_CODES[hs6]
                if source != "comtrade" and len(c) == (10 if source == "census" else 8)
            ]
            for code in lines:
                rows[(source, reporter, partner, code, month)] = monthly_row(
                    source, reporter, partner, code, month, float(value) / 2
                )
    return list(rows.values())


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(rows=monthly_cases())
def test_every_monthly_declaration_once(tmp_path_factory: pytest.TempPathFactory, rows) -> None:
    """Latest months: each declaration once per month (a customs office's figure kept
    before UN Comtrade's for the same reporter, month and code; a code two chosen
    minerals share counted once), and the exact product the national lines' own sum."""
    from critmin.schema import TABLES
    from critmin.views import exact, latest

    root = tmp_path_factory.mktemp("mwh") / "warehouse"
    frame = pl.DataFrame(rows, schema=TABLES["monthly_flows"].columns)
    warehouse = Warehouse(root)
    with warehouse.transaction(derived=derive.refresh) as tx:
        write_reference_tables(tx)
        for source in frame["source"].unique().to_list():
            tx.write_frame(
                "monthly_flows",
                source,
                frame.filter(pl.col("source") == source),
                source=source,
                release="test",
            )
    db = open_database(Settings(data_dir=root, data_dir_is_default=False, row_cap=100_000))
    catalog = load_catalog(db)
    hs = frame.filter(pl.col("classification") == "HS")
    ranked = hs.with_columns(
        pl.when(pl.col("source") == "comtrade").then(2).otherwise(1).alias("r")
    )
    kept = ranked.filter(
        pl.col("r") == pl.col("r").min().over("reporter", "partner", "month", "national_code")
    )
    for partner in ("KAZ", "UZB"):
        state = latest.State(
            partner, ("gallium", "germanium", "manganese_sulfate"), "36", "mirror", "basket"
        )
        view = latest.build(db, catalog, state)
        want = kept.filter(
            (pl.col("partner") == partner) & pl.col("hs6").is_in(["811292", "283329"])
        )
        shown = float(view.months["value_musd"].sum()) * 1e6 if view.months.height else 0.0
        assert shown == pytest.approx(float(want["value_usd"].sum()))
    bought, _ = exact.purchases(db, catalog, "USA", "gallium", 2025, 2025)
    lines = frame.filter(pl.col("national_code") == "8112921000")
    if lines.height:
        assert bought is not None
        assert float(bought.purchases["value_usd"].sum()) == pytest.approx(
            float(lines["value_usd"].sum())
        )
    else:
        assert bought is None
    db.close()
