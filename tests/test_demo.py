"""The embedded default: deterministic, covering every basket and the countries
the product is about, with real reference data."""

import polars as pl

from critmin import reference
from critmin.demo import DEMO_EDITION, synthetic_trade_flows
from critmin.domain import C5, FIRST_YEAR
from critmin.warehouse import Warehouse


def test_synthetic_flows_are_deterministic():
    first = synthetic_trade_flows(last_year=2016)
    second = synthetic_trade_flows(last_year=2016)
    assert first.equals(second)


def test_demo_covers_baskets_countries_and_years(demo_warehouse_dir):
    flows = pl.read_parquet(
        Warehouse(demo_warehouse_dir).files("trade_flows"), hive_partitioning=True
    )
    countries = set(flows["exporter"]) | set(flows["importer"])
    assert len(countries) >= 60
    eu27 = set(reference.countries().filter(pl.col("groups").list.contains("EU27"))["iso3"])
    assert {"KAZ", "CHN", "RUS", "USA", "KOR", "JPN", "TUR", *C5} <= countries
    assert len(eu27 & countries) == 27
    baskets = reference.load_mineral_baskets().filter(pl.col("hs_edition") == DEMO_EDITION)
    present = set(flows["hs6"])
    for mineral, codes in baskets.group_by("mineral").agg("hs6").iter_rows():
        assert present & set(codes), f"no demo flows for {mineral}"
    assert (int(flows["year"].min()), int(flows["year"].max())) == (FIRST_YEAR, 2024)
    assert set(flows["side"]) == {"reconciled", "exporter_reported", "importer_reported"}


def test_demo_kazakh_focus_products_grow(demo_warehouse_dir):
    flows = pl.read_parquet(
        Warehouse(demo_warehouse_dir).files("trade_flows"), hive_partitioning=True
    )
    kaz = flows.filter(
        (pl.col("exporter") == "KAZ")
        & (pl.col("hs6") == "283329")
        & (pl.col("side") == "reconciled")
    )
    by_year = kaz.group_by("year").agg(pl.col("value_usd").sum()).sort("year")
    assert by_year["value_usd"][-1] > 10 * by_year["value_usd"][0]


def test_curated_sites_fall_inside_their_country():
    sites = reference.load_curated_deposits()
    assert 20 <= sites.height <= 60
    assert sites["source_reference"].null_count() == 0
    for iso3, lat, lon, name in sites.select("country", "lat", "lon", "name").iter_rows():
        assert reference.point_in_country(iso3, lat, lon), name


def test_boundaries_decode_to_country_shapes():
    features = reference.country_features("110m")
    kaz = [f for f in features if f["properties"]["iso3"] == "KAZ"]
    assert kaz and kaz[0]["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert reference.point_in_country("KAZ", 51.17, 71.45)  # Astana
    assert not reference.point_in_country("KAZ", 71.45, 51.17)  # swapped: in the Arctic sea


def test_basket_editions_follow_the_hs_changes():
    baskets = reference.load_mineral_baskets()
    gallium = baskets.filter((pl.col("mineral") == "gallium") & (pl.col("hs6") != "811299"))
    by_edition = dict(gallium.select("hs_edition", "hs6").iter_rows())
    assert by_edition["HS92"] == by_edition["HS96"] == "811291"
    assert all(by_edition[e] == "811292" for e in ("HS02", "HS07", "HS12", "HS17", "HS22"))
    assert baskets.filter(pl.col("hs6") == "283329")["shared_basket"].all()


def test_demo_holds_real_usgs_figures_beside_its_synthetic_flows(demo_warehouse_dir):
    warehouse = Warehouse(demo_warehouse_dir)
    production = pl.read_parquet(warehouse.files("production"))
    copper = production.filter(
        (pl.col("country") == "KAZ")
        & (pl.col("commodity") == "Copper")
        & (pl.col("statistic") == "Mine production")
        & (pl.col("year") == 2024)
    )
    # DOMAIN.md §6: USGS MCS 2026, Kazakhstan's copper mine production in 2024.
    assert copper["value"].to_list() == [724_000.0]
    assert set(warehouse.parts("deposits")) == {"curated", "minmod"}
    licences = {p.table: p.licence for p in warehouse.provenance() if p.source == "demo"}
    assert "MIT" in licences["trade_flows"]


def test_chromium_is_among_kazakhstans_largest_demo_exports(demo_warehouse_dir):
    flows = pl.read_parquet(
        Warehouse(demo_warehouse_dir).files("mineral_flows"), hive_partitioning=True
    )
    kaz = flows.filter(
        (pl.col("exporter") == "KAZ") & (pl.col("side") == "reconciled") & (pl.col("year") == 2024)
    )
    ranked = (
        kaz.group_by("mineral").agg(pl.col("value_usd").sum()).sort("value_usd", descending=True)
    )
    assert "chromium" in ranked["mineral"].head(3).to_list()


def test_demo_months_follow_the_last_reconciled_year_like_the_real_sources(demo_warehouse_dir):
    import datetime as dt

    from critmin.demo import default_last_year, synthetic_monthly_flows

    assert default_last_year(dt.date(2026, 12, 7)) == 2024  # BACI V202601 ends in 2024
    months = pl.read_parquet(Warehouse(demo_warehouse_dir).files("monthly_flows"))
    assert "demo" in Warehouse(demo_warehouse_dir).parts("monthly_flows")
    assert int((months["year"] * 100 + months["month"]).min()) == 202401
    # Each reporter as its real publisher would: the US by the Census (HTS10 lines too),
    # EU members by Comext (CN8, euros), the rest by UN Comtrade; Russia not at all.
    by = dict(months.group_by("reporter").agg(pl.col("source").unique()).iter_rows())
    assert by["USA"] == ["census"] and by["DEU"] == ["comext"] and by["CHN"] == ["comtrade"]
    assert "RUS" not in by
    assert set(months.filter(pl.col("source") == "comext")["currency"]) == {"EUR"}
    assert {"HTS10", "CN8", "HS"} <= set(months["classification"])
    flows = synthetic_trade_flows(last_year=2016)
    one = synthetic_monthly_flows(flows, 2016, dt.date(2018, 6, 1))
    assert one.equals(synthetic_monthly_flows(flows, 2016, dt.date(2018, 6, 1)))
