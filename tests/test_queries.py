"""Golden-frame tests of every query on a tiny warehouse built in code."""

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from critmin import derive, queries
from critmin.db import SQL_DIR, Database
from critmin.filters import DepositFilter, Sort, TradeFilter
from critmin.schema import empty_frame
from critmin.settings import Settings
from critmin.warehouse import Warehouse

BASKETS = pl.DataFrame(
    {
        "mineral": ["gallium", "gallium", "graphite"],
        "label": ["Gallium", "Gallium", "Graphite"],
        "hs_edition": ["HS96", "HS12", "HS12"],
        "hs6": ["811291", "811292", "250410"],
        "stage": ["refined", "refined", "ore"],
        "shared_basket": [True, True, False],
        "note": ["old", "new", ""],
        "lists": [["USGS2025"], ["USGS2025"], ["USGS2025", "EU2023"]],
        "citation": ["HS 1996", "HS 2012", "HS 2012"],
    }
)


def flow(year, edition, hs6, exporter, importer, value, qty=None, side="reconciled", source="baci"):
    return {
        "year": year,
        "hs_edition": edition,
        "hs6": hs6,
        "exporter": exporter,
        "importer": importer,
        "value_usd": value,
        "quantity_kg": qty,
        "source": source,
        "side": side,
        "release": "V1",
    }


FLOWS = pl.DataFrame(
    [
        flow(2001, "HS96", "811291", "KAZ", "CHN", 100.0, 1.0),
        flow(2020, "HS12", "811292", "KAZ", "CHN", 300.0, 2.0),
        flow(2020, "HS12", "811292", "KAZ", "USA", 100.0, None),
        flow(2020, "HS12", "811291", "KAZ", "USA", 999.0, 9.0),  # 811291 is not gallium in HS12
        flow(2020, "HS12", "250410", "KAZ", "RUS", 50.0, 100.0),
        flow(2020, "HS12", "811292", "CHN", "USA", 1000.0, 5.0),
        flow(2021, "HS12", "811292", "KAZ", "CHN", 400.0, 4.0),
        flow(
            2020,
            "HS12",
            "811292",
            "KAZ",
            "CHN",
            280.0,
            None,
            side="exporter_reported",
            source="comtrade",
        ),
        flow(
            2020,
            "HS12",
            "811292",
            "KAZ",
            "CHN",
            320.0,
            None,
            side="importer_reported",
            source="comtrade",
        ),
    ],
    schema_overrides={"quantity_kg": pl.Float64, "year": pl.Int32},
)


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Database:
    root = tmp_path_factory.mktemp("tiny") / "wh"
    warehouse = Warehouse(root)
    countries = pl.DataFrame(
        {
            "iso3": ["CHN", "KAZ", "RUS", "USA"],
            "iso_numeric": [156, 398, 643, 840],
            "name": ["China", "Kazakhstan", "Russia", "United States"],
            "continent": ["Asia"] * 3 + ["America"],
            "region": ["a", "b", "c", "d"],
            "groups": [["BRICS"], ["C5"], ["BRICS"], ["G7"]],
            "lat": [35.0, 48.0, 60.0, 39.0],
            "lon": [103.0, 67.0, 90.0, -98.0],
        },
        schema_overrides={"iso_numeric": pl.Int32},
    )
    deposits = pl.DataFrame(
        {
            "id": ["a", "b"],
            "name": ["Alpha", "Beta"],
            "country": ["KAZ", "UZB"],
            "lat": [47.0, 41.0],
            "lon": [67.0, 64.0],
            "commodities": [["Cu", "Mo"], ["Au"]],
            "status": ["producing", "exploration"],
            "deposit_type": ["porphyry", None],
            "source": ["curated", "curated"],
            "source_reference": ["ref a", "ref b"],
            "location_check": ["ok", "ok"],
        }
    )
    production = pl.DataFrame(
        {
            "country": ["KAZ"],
            "commodity": ["Copper"],
            "statistic": ["Mine production"],
            "year": [2024],
            "value": [724000.0],
            "unit": ["metric tons"],
            "value_flag": [None],
            "source": ["usgs"],
        },
        schema_overrides={"year": pl.Int32, "value_flag": pl.String},
    )
    with warehouse.transaction(derived=derive.refresh) as tx:
        tx.write_frame("trade_flows", "test", FLOWS, source="baci", release="V1")
        tx.write_frame("mineral_baskets", "reference", BASKETS, source="t", release="1")
        tx.write_frame("countries", "reference", countries, source="t", release="1")
        tx.write_frame("deposits", "curated", deposits, source="t", release="1")
        tx.write_frame("production", "usgs", production, source="t", release="1")
        tx.write_frame("products", "reference", empty_frame("products"), source="t", release="1")
        tx.write_frame("events", "reference", empty_frame("events"), source="t", release="1")
    return Database(warehouse, Settings(data_dir=root, data_dir_is_default=False, row_cap=100))


def kaz(minerals=(), codes=(), year_from=2020, year_to=2020, **changes) -> TradeFilter:
    return TradeFilter(
        tuple(minerals), tuple(codes), year_from, year_to, exporters=("KAZ",), **changes
    )


def test_exports_by_series_resolves_the_basket_per_edition(db):
    out = queries.exports_by_series(db, kaz(["gallium"], year_from=2000, year_to=2021)).frame
    expected = pl.DataFrame(
        {
            "year": [2001, 2020, 2021],
            "series": ["gallium"] * 3,
            "value_usd": [100.0, 400.0, 400.0],
            "quantity_kg": [1.0, 2.0, 4.0],
            "value_with_quantity_usd": [100.0, 300.0, 400.0],
            "flows": [1, 2, 1],
        },
        schema_overrides={"year": pl.Int32},
    )
    assert_frame_equal(out, expected)


def test_chosen_hs6_code_is_its_own_series(db):
    out = queries.exports_by_series(db, kaz(codes=["811291"])).frame
    assert out.select("series", "value_usd").rows() == [("HS 811291", 999.0)]


def test_exports_by_partner_counts_each_flow_once(db):
    out = queries.exports_by_partner(db, kaz(["gallium", "graphite"])).frame
    assert out.select("partner", "value_usd").rows() == [
        ("CHN", 300.0),
        ("USA", 100.0),
        ("RUS", 50.0),
    ]
    # 811292 chosen again as a code, beside the basket that holds it: still once.
    again = queries.exports_by_partner(db, kaz(["gallium"], ["811292"])).frame
    assert again["value_usd"].sum() == 400.0


def test_exports_total_and_by_stage(db):
    total = queries.exports_total(db, kaz(["gallium", "graphite"])).frame
    assert sorted(total.select("series", "value_usd").rows()) == [
        ("Gallium", 400.0),
        ("Graphite", 50.0),
    ]
    stages = queries.exports_by_stage(db, kaz(["gallium", "graphite"])).frame
    assert sorted(stages.select("stage", "value_usd").rows()) == [("ore", 50.0), ("refined", 400.0)]
    refined = queries.exports_by_stage(db, kaz(["gallium", "graphite"], stages=("ore",))).frame
    assert refined.select("stage", "value_usd").rows() == [("ore", 50.0)]


def test_the_overview_statement_answers_as_its_three_queries(db):
    """exports_overview is exports_total, exports_by_stage and the last year's
    exports_by_partner in one statement: the Overview view splits it back, and each part
    equals the query it replaces (codes chosen directly and a shared code included)."""
    from polars.testing import assert_frame_equal

    from critmin.views.overview import overview_parts

    for f in (
        kaz(["gallium", "graphite"], year_from=2019, year_to=2021),
        kaz(["gallium"], ["811292", "250490"], year_from=2019, year_to=2021),
    ):
        totals, stages, partners = overview_parts(queries.exports_overview(db, f).frame)
        expected = (
            queries.exports_total(db, f).frame,
            queries.exports_by_stage(db, f).frame,
            queries.exports_by_partner(db, f.years(f.year_to)).frame,
        )
        for got, want in zip((totals, stages, partners), expected, strict=True):
            assert want.height > 0
            assert_frame_equal(got, want, check_exact=False)
        assert set(partners["year"].to_list()) == {f.year_to}


def test_exporters_by_series_and_importer_view(db):
    world = queries.exporters_by_series(db, TradeFilter(("gallium",), (), 2020, 2020)).frame
    assert world.select("exporter", "value_usd").rows() == [("CHN", 1000.0), ("KAZ", 400.0)]
    usa = queries.imports_by_supplier(
        db, TradeFilter(("gallium",), (), 2020, 2020, importers=("USA",))
    ).frame
    assert usa.select("supplier", "value_usd").rows() == [("CHN", 1000.0), ("KAZ", 100.0)]


def _suppliers_market_matches_its_two_queries(db, f, buyers):
    market = queries.suppliers_market(db, f, buyers)
    world = queries.exporters_by_series(db, f).frame
    purchases = queries.imports_by_supplier(db, f.only(importers=tuple(buyers))).frame
    assert world.height > 0 and purchases.height > 0
    assert_frame_equal(market.world, world, check_exact=False)
    assert_frame_equal(market.purchases, purchases, check_exact=False)


def test_the_suppliers_statement_answers_as_its_two_queries(db):
    """suppliers_market is exporters_by_series and the buyers' imports_by_supplier in
    one statement: each half equals the query it replaces, rows and order."""
    every = TradeFilter(("gallium",), (), 2019, 2021)
    _suppliers_market_matches_its_two_queries(db, every, ["USA"])
    # A buyer that also exports: its own exports are not its imports.
    _suppliers_market_matches_its_two_queries(db, every, ["USA", "KAZ"])
    _suppliers_market_matches_its_two_queries(
        db, TradeFilter(("gallium",), ("811292",), 2019, 2021, sides=()), ["CHN"]
    )
    with pytest.raises(ValueError, match="every importer"):
        queries.suppliers_market(db, every.only(importers=("USA",)), ["USA"])
    with pytest.raises(ValueError, match="at least one buyer"):
        queries.suppliers_market(db, every, [])


def test_the_suppliers_statement_on_the_demo_warehouse(demo_warehouse_dir):
    """The same on the demo's synthetic market, for a group of buyers (the EU27, whose
    trade among its members is left out) and several baskets sharing a code."""
    from critmin.catalog import load_catalog
    from critmin.db import open_database

    demo = open_database(Settings(data_dir=demo_warehouse_dir, data_dir_is_default=False))
    eu = load_catalog(demo).members("EU27")
    assert len(eu) == 27
    for minerals in (("manganese_sulfate",), ("gallium", "germanium"), ("graphite",)):
        f = TradeFilter(minerals, (), 2015, 2024)
        _suppliers_market_matches_its_two_queries(demo, f, eu)
        _suppliers_market_matches_its_two_queries(demo, f, ["USA"])


def test_mirror_flows_keep_sides_apart(db):
    out = queries.mirror_flows(db, kaz(["gallium"], sides=())).frame
    chn = out.filter(pl.col("partner") == "CHN").select("side", "source", "value_usd").sort("side")
    assert chn.rows() == [
        ("exporter_reported", "comtrade", 280.0),
        ("importer_reported", "comtrade", 320.0),
        ("reconciled", "baci", 300.0),
    ]


def test_flows_explorer_filters_sorts_and_caps(db):
    f = kaz(["gallium"], year_to=2021, importers=("CHN",))
    out = queries.flows_explorer(db, f, Sort("year"))
    assert out.frame.select("year", "importer", "value_usd").rows() == [
        (2021, "CHN", 400.0),
        (2020, "CHN", 300.0),
    ]
    assert out.frame["unit_value_usd_per_kg"].to_list() == [100.0, 150.0]
    assert not out.truncated
    every = TradeFilter(("gallium",), (), 2000, 2021, sides=())
    capped = queries.flows_explorer(db, every, Sort("value_usd"), limit=2)
    assert capped.frame["value_usd"].to_list() == [1000.0, 400.0] and capped.truncated
    smallest = queries.flows_explorer(db, every, Sort("value_usd", descending=False), limit=2)
    assert smallest.frame["value_usd"].to_list() == [100.0, 100.0]
    with pytest.raises(ValueError, match="cannot be sorted"):
        queries.flows_explorer(db, every, Sort("value_usd; DROP VIEW trade_flows"))


def test_deposits_and_facets(db):
    cu = queries.deposits(db, DepositFilter(commodities=("Mo",))).frame
    assert cu["name"].to_list() == ["Alpha"]
    assert queries.deposits(db, DepositFilter(("UZB",), (), ("producing",))).frame.is_empty()
    facets = queries.deposit_facets(db, ("KAZ",)).frame
    assert set(facets.filter(pl.col("facet") == "commodity")["value"]) == {"Cu", "Mo"}


def test_the_map_asks_for_few_columns_of_every_site_and_every_column_of_its_table(
    demo_warehouse_dir,
):
    """site_points holds the deposits rows the Map draws and counts; the table is the
    first sites in the deposits' order, and the download (asked at a click) all."""
    from critmin.catalog import load_catalog
    from critmin.db import open_database
    from critmin.views import map as sites_map

    db = open_database(Settings(data_dir=demo_warehouse_dir, data_dir_is_default=False))
    columns = ["name", "country", "lat", "lon", "commodities", "status", "source"]
    every = queries.deposits(db, DepositFilter()).frame
    kaz_copper = DepositFilter(("KAZ",), ("Cu",), ())
    working = DepositFilter((), (), ("producing", "plant"))
    for f in (DepositFilter(), DepositFilter(("KAZ", "UZB")), kaz_copper, working):
        sites = queries.deposits(db, f).frame
        points = queries.site_points(db, f).frame
        assert points.columns == [*columns, "location_check"]
        assert points.height == sites.height > 0
        key = ["country", "name", "lat", "lon", "status"]
        assert_frame_equal(
            points.drop("commodities").sort(key, nulls_last=True),
            sites.select(points.columns).drop("commodities").sort(key, nulls_last=True),
        )
    assert queries.deposits(db, kaz_copper).frame.height < every.height
    assert_frame_equal(every, every.sort("country", "name", "id", nulls_last=True))

    catalog = load_catalog(db)
    state = sites_map.State("KAZ", (), (), (), ("gallium",), 2024)  # every site
    view = sites_map.build(db, catalog, state)
    # Every record counted; a site several compilations list is one site on the map, in
    # the table (of the first records) and in the download.
    assert view.records == every.height > sites_map.TABLE_ROWS
    assert view.sites.height == sites_map.one_per_site(every).height < every.height
    assert_frame_equal(view.table, sites_map.site_table(every.head(sites_map.TABLE_ROWS)))
    assert_frame_equal(sites_map.all_sites(db, view.sites_filter), sites_map.site_table(every))


def test_the_row_cap_holds_for_a_query_read_as_it_runs(demo_warehouse_dir):
    """Without a page's sort or limit a query is not wrapped in a LIMIT: the cap is kept
    by reading cap + 1 rows, and the rest of the result is dropped, so the cursor
    serves the next query."""
    from critmin.db import open_database

    settings = Settings(data_dir=demo_warehouse_dir, data_dir_is_default=False)
    every = queries.site_points(open_database(settings), DepositFilter()).frame
    for cap in (1, 7, every.height - 1):
        db = open_database(Settings(**{**settings.__dict__, "row_cap": cap}))
        for _ in range(3):  # the same idle cursor each time
            capped = queries.site_points(db, DepositFilter())
            assert capped.truncated and capped.frame.height == cap
            assert_frame_equal(capped.frame, every.head(cap))
    exact = open_database(Settings(**{**settings.__dict__, "row_cap": every.height}))
    whole = queries.site_points(exact, DepositFilter())
    assert not whole.truncated and whole.frame.height == every.height


def test_an_optional_block_may_end_the_text():
    """An included file's last block is dropped like any other (site_points ends with
    deposit_filter's blocks)."""
    from critmin.db import load_sql, specialise

    sql, params = specialise(
        load_sql("site_points"), {"countries": [], "commodities": [], "statuses": []}
    )
    assert "list_contains" not in sql and "list_intersect" not in sql and params == {}
    sql, params = specialise(
        load_sql("site_points"), {"countries": [], "commodities": [], "statuses": ["plant"]}
    )
    assert "list_contains($statuses, status)" in sql and params == {"statuses": ["plant"]}


def test_production_and_reference_tables(db):
    assert queries.production(db, ("KAZ",)).frame["value"].to_list() == [724000.0]
    assert queries.countries(db).frame["iso3"].to_list() == ["CHN", "KAZ", "RUS", "USA"]
    assert queries.mineral_baskets(db).frame.height == 3
    years = queries.trade_years(db).frame
    assert set(years["side"]) == {"reconciled", "exporter_reported", "importer_reported"}


def test_every_sql_file_has_a_documented_header():
    for path in SQL_DIR.glob("*.sql"):
        first = path.read_text().splitlines()[0]
        assert first.startswith(f"-- {path.stem}:"), path.name
        assert "Parameters:" in path.read_text(), path.name


def test_connection_cannot_read_other_files(db):
    with pytest.raises(Exception, match="(?i)permission|disabled|access"):
        db.connection.cursor().sql("SELECT * FROM read_csv('/etc/passwd')").fetchall()


def test_the_catalog_carries_the_events_and_map_points(demo_warehouse_dir):
    """Growth, About and the Map draw the events and the countries' points from the
    catalog (read once per warehouse version), the same rows their queries return."""
    from critmin.catalog import load_catalog
    from critmin.db import open_database

    db = open_database(Settings(data_dir=demo_warehouse_dir, data_dir_is_default=False))
    catalog = load_catalog(db)
    assert_frame_equal(catalog.events(), queries.events(db).frame)
    assert catalog.events().height > 0
    countries = queries.countries(db).frame
    assert_frame_equal(catalog.country_points, countries.select("iso3", "lat", "lon"))
    kaz = queries.production(db, ("KAZ", "USA")).frame
    assert kaz.height > 0 and catalog.production_table.height > kaz.height
    assert_frame_equal(catalog.production(("KAZ", "USA")), kaz, check_row_order=False)


def test_unreadable_production_stops_only_the_tables_that_show_it(demo_copy):
    """A broken USGS production file leaves the catalog, and every other page, up:
    Overview stops with the table's name, Diversification says so where its
    production table would be and still shows its trade tables."""
    from critmin.catalog import load_catalog
    from critmin.db import TableUnavailable, open_database
    from critmin.views import diversification, overview

    victim = Warehouse(demo_copy).files("production")[0]
    victim.write_bytes(b"this is not parquet")
    db = open_database(Settings(data_dir=demo_copy, data_dir_is_default=False))
    catalog = load_catalog(db)
    with pytest.raises(TableUnavailable, match="production"):
        overview.build(db, catalog, overview.State("KAZ", 2015, 2024))
    view = diversification.build(
        db,
        catalog,
        diversification.State("USA", "chromium", 2024, catalog.default_side(), 50, "CHN"),
    )
    assert view.usgs.production.is_empty()
    assert "production" in (view.usgs.production_note or "")
    assert view.imports.suppliers.height > 0


def test_unreadable_events_stop_only_the_pages_that_draw_them(demo_copy):
    """A broken events file must not take the catalog, and with it every page, down:
    Growth and About stop with the file's name, the Map still builds."""
    from critmin.catalog import load_catalog
    from critmin.db import TableUnavailable, open_database
    from critmin.views import about, growth
    from critmin.views import map as sites_map

    victim = Warehouse(demo_copy).files("events")[0]
    victim.write_bytes(b"this is not parquet")
    db = open_database(Settings(data_dir=demo_copy, data_dir_is_default=False))
    catalog = load_catalog(db)
    with pytest.raises(TableUnavailable, match="events"):
        about.build(db, catalog, about.State())
    state = growth.State(
        country="KAZ",
        minerals=("gallium",),
        codes=(),
        stages=(),
        year_from=2015,
        year_to=2024,
        side=catalog.default_side(),
        measure="value",
        view="series",
    )
    with pytest.raises(TableUnavailable, match="events"):
        growth.build(db, catalog, state)
    view = sites_map.build(
        db, catalog, sites_map.State("KAZ", ("KAZ",), (), (), ("gallium",), 2024)
    )
    assert view.arcs.height > 0


def test_overview_production_table_does_not_depend_on_the_query_row_order():
    """production.sql returns rows in no order: the Overview table orders its rows
    (commodity, statistic) and its year columns itself, the same at every visit."""
    from critmin.views.overview import production_table

    rows = pl.DataFrame(
        {
            "country": ["KAZ"] * 6,
            "commodity": ["Zinc", "Copper", "Copper", "Zinc", "Copper", "Copper"],
            "statistic": ["Mine production", "Reserves", "Mine production"] * 2,
            "year": [2024, 2024, 2024, 2023, 2023, 2022],
            "value": [200_000.0, None, 724_000.0, 190_000.0, 740_000.0, 700_000.0],
            "unit": ["metric tons"] * 6,
            "value_flag": [None, "W", None, None, None, None],
            "source": ["usgs_mcs"] * 6,
        }
    )
    table = production_table(rows)
    assert table.columns == ["commodity", "statistic", "unit", "2023", "2024"]
    assert table.select("commodity", "statistic").rows() == [
        ("Copper", "Mine production"),
        ("Copper", "Reserves"),
        ("Zinc", "Mine production"),
    ]
    assert table["2024"].to_list() == ["724,000", "W", "200,000"]
    for seed in range(5):
        assert_frame_equal(
            production_table(rows.sample(fraction=1.0, shuffle=True, seed=seed)), table
        )


def test_overview_production_table_shows_a_statistic_given_twice_in_full():
    """MCS 2026 gives US natural mica's exports twice a year (scrap and flake, and
    sheet, told apart only in the notes): the table shows both figures, not one."""
    from critmin.views.overview import production_table

    rows = pl.DataFrame(
        {
            "country": ["USA"] * 3,
            "commodity": ["Mica (Natural)"] * 3,
            "statistic": ["Exports"] * 3,
            "year": [2024, 2024, 2023],
            "value": [4_160.0, 870.0, 1_010.0],
            "unit": ["metric tons"] * 3,
            "value_flag": [None] * 3,
            "source": ["usgs_mcs"] * 3,
        }
    )
    table = production_table(rows)
    assert table.rows() == [("Mica (Natural)", "Exports", "metric tons", "1,010", "870 / 4,160")]
    assert_frame_equal(production_table(rows.reverse()), table)


def test_the_mirror_view_does_not_depend_on_the_query_row_order(demo_warehouse_dir, monkeypatch):
    """mirror_flows.sql returns its rows in no order: the Mirror page's tables are
    the same for any order of them."""
    import dataclasses

    from critmin.catalog import load_catalog
    from critmin.db import QueryResult, open_database
    from critmin.views import mirror

    db = open_database(Settings(data_dir=demo_warehouse_dir, data_dir_is_default=False))
    catalog = load_catalog(db)
    state = mirror.State("KAZ", ("chromium", "titanium", "zinc"), (), 2015, 2024)
    reference = mirror.build(db, catalog, state)
    assert reference.by_partner.height > 3
    original = queries.mirror_flows
    for seed in range(3):

        def shuffled(db_, f, seed=seed):
            result = original(db_, f)
            frame = result.frame.sample(fraction=1.0, shuffle=True, seed=seed)
            return QueryResult(frame, result.truncated, result.query)

        monkeypatch.setattr(queries, "mirror_flows", shuffled)
        again = mirror.build(db, catalog, state)
        for field in dataclasses.fields(reference):
            ours, theirs = getattr(reference, field.name), getattr(again, field.name)
            if isinstance(ours, pl.DataFrame):
                assert_frame_equal(ours, theirs, check_exact=False, rel_tol=1e-12)
            else:
                assert ours == theirs, field.name
