"""Mineral baskets (reference/mineral_baskets.csv) and their USGS counterparts
(reference/mineral_usgs.csv): the loader's checks, coverage of every HS edition, and,
with the real public files present, every code against the HS code lists and the
UNSD correlation tables between editions."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from critmin import reference
from critmin.domain import HS_EDITIONS, STAGES
from critmin.reference import ReferenceError

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs" / "baskets.md"

# Minerals the product must carry a basket for: Kazakhstan's main critical-mineral exports
# and every mineral of the two lists that HS6 can show.
REQUIRED = {
    "manganese_sulfate", "gallium", "graphite", "rare_earths", "lithium", "manganese",
    "copper", "zinc", "alumina", "uranium", "chromium", "titanium", "tantalum", "niobium",
    "beryllium", "tungsten", "silicon", "vanadium", "antimony", "bismuth", "germanium",
    "indium", "cobalt", "nickel", "pgm", "fluorspar", "barite", "magnesium", "phosphate",
    "rhenium", "hafnium", "tellurium", "arsenic", "aluminium", "tin", "boron", "zirconium",
    "silver", "lead", "potash", "coking_coal", "feldspar", "helium", "strontium", "scandium",
}  # fmt: skip

# Annex II of Regulation (EU) 2024/1252 (the 34 critical raw materials), by basket id:
# "bauxite/alumina/aluminium" is one entry, HREE and LREE are the rare_earths basket,
# "phosphate rock" and "phosphorus" the phosphate basket.
EU2023 = {
    "antimony", "arsenic", "aluminium", "alumina", "barite", "beryllium", "bismuth", "boron",
    "cobalt", "coking_coal", "copper", "feldspar", "fluorspar", "gallium", "germanium",
    "hafnium", "helium", "rare_earths", "lithium", "magnesium", "manganese", "graphite",
    "nickel", "niobium", "phosphate", "pgm", "scandium", "silicon", "strontium", "tantalum",
    "titanium", "tungsten", "vanadium",
}  # fmt: skip
# The USGS final 2025 List of Critical Minerals (60 names), by basket id: the single rare
# earths and yttrium are the rare_earths basket, platinum, palladium, rhodium, iridium and
# ruthenium the pgm basket, metallurgical coal the coking_coal basket.
USGS2025 = {
    "aluminium", "antimony", "arsenic", "barite", "beryllium", "bismuth", "boron", "chromium",
    "cobalt", "copper", "fluorspar", "gallium", "germanium", "graphite", "hafnium", "indium",
    "lead", "lithium", "magnesium", "manganese", "coking_coal", "nickel", "niobium", "pgm",
    "phosphate", "potash", "rare_earths", "rhenium", "scandium", "silicon", "silver",
    "tantalum", "tellurium", "tin", "titanium", "tungsten", "uranium", "vanadium", "zinc",
    "zirconium",
}  # fmt: skip
# Baskets kept on a list by the product's own reading, explained in docs/baskets.md.
LIST_BY_READING = {"manganese_sulfate"}

# The UNSD correlation tables of ../shared/data/trade/hs-concordance-unsd.
CORRELATIONS = {
    ("HS22", "HS17"): "HS2022toHS2017ConversionAndCorrelationTables.xlsx",
    ("HS22", "HS12"): "HS2022toHS2012ConversionAndCorrelationTables.xlsx",
    ("HS22", "HS02"): "HS2022toHS2002ConversionAndCorrelationTables.xlsx",
    ("HS17", "HS12"): "HS2017toHS2012ConversionAndCorrelationTables.xlsx",
    ("HS17", "HS02"): "HS2017toHS2002ConversionAndCorrelationTables.xlsx",
    ("HS12", "HS02"): "HS 2012 to HS 2002 Correlation and conversion tables.xls",
}
CODE_LISTS = {"HS12": "classificationH4.json", "HS17": "classificationH5.json"}
CODE_LISTS["HS22"] = "classificationH6.json"
SIX_DIGITS = re.compile(r"^\d{6}$")


@pytest.fixture(scope="module")
def baskets() -> pl.DataFrame:
    return reference.load_mineral_baskets()


def not_showable() -> dict[str, set[str]]:
    """Editions docs/baskets.md names as not showable for a mineral: lines
    `- not showable: <mineral> <EDITION> [<EDITION> ...]` of the docs' section."""
    found: dict[str, set[str]] = {}
    for match in re.finditer(r"^- not showable: (\w+) ((?:HS\d\d ?)+)", DOCS.read_text(), re.M):
        found.setdefault(match.group(1), set()).update(match.group(2).split())
    return found


def names_code(note: str, code: str) -> bool:
    """A note explains a correspondence when it names the other code (880000 or 8800.00)."""
    return code in note or f"{code[:4]}.{code[4:]}" in note


# --- the file itself --------------------------------------------------------------


def test_every_required_mineral_has_a_basket(baskets: pl.DataFrame) -> None:
    assert REQUIRED - set(baskets["mineral"]) == set()


def test_rows_are_well_formed(baskets: pl.DataFrame) -> None:
    assert baskets["hs6"].str.contains(r"^\d{6}$").all()
    assert set(baskets["stage"]) <= set(STAGES)
    assert set(baskets["hs_edition"]) <= set(HS_EDITIONS)
    assert baskets.filter(pl.col("note") == "").height == 0
    assert baskets.filter(pl.col("citation") == "").height == 0
    per_mineral = baskets.group_by("mineral").agg(
        pl.col("label").n_unique().alias("labels"), pl.col("lists").n_unique().alias("lists")
    )
    assert per_mineral.filter((pl.col("labels") > 1) | (pl.col("lists") > 1)).height == 0
    assert baskets.select("mineral", "hs_edition", "hs6").is_duplicated().sum() == 0


def test_lists_follow_the_two_official_lists(baskets: pl.DataFrame) -> None:
    lists = dict(baskets.select("mineral", "lists").unique("mineral").iter_rows())
    for mineral, names in lists.items():
        if mineral in LIST_BY_READING:
            assert mineral in DOCS.read_text(), f"{mineral}'s lists are not explained"
            continue
        assert ("EU2023" in names) == (mineral in EU2023), mineral
        assert ("USGS2025" in names) == (mineral in USGS2025), mineral


def test_every_mineral_is_covered_in_every_edition_or_the_docs_say_why(
    baskets: pl.DataFrame,
) -> None:
    excused = not_showable()
    for (mineral,), rows in baskets.group_by("mineral"):
        missing = set(HS_EDITIONS) - set(rows["hs_edition"])
        unexplained = missing - excused.get(str(mineral), set())
        assert not unexplained, f"{mineral} has no code in {sorted(unexplained)}"


def test_codes_in_several_baskets_are_flagged_shared(baskets: pl.DataFrame) -> None:
    """A code two baskets carry holds two minerals, so each must say it is shared, unless
    one basket is wholly a stage of the other (alumina within aluminium)."""
    codes = {str(mineral): set(rows["hs6"]) for (mineral,), rows in baskets.group_by("mineral")}
    unflagged = baskets.filter(~pl.col("shared_basket")).select("mineral", "hs_edition", "hs6")
    problems = []
    for mineral, edition, hs6 in unflagged.iter_rows():
        others = baskets.filter(
            (pl.col("hs_edition") == edition)
            & (pl.col("hs6") == hs6)
            & (pl.col("mineral") != mineral)
        )["mineral"]
        for other in others:
            if not (codes[other] <= codes[mineral] or codes[mineral] <= codes[other]):
                problems.append(f"{mineral} {edition} {hs6} is also in {other}")
    assert not problems


def test_unit_value_ranges_name_basket_minerals(baskets: pl.DataFrame) -> None:
    ranges = reference.load_unit_value_ranges()
    assert set(ranges) <= set(baskets["mineral"])
    assert all(0 < low < high for low, high in ranges.values())
    assert {"chromium", "titanium", "tungsten", "silicon"} <= set(ranges)


def test_usgs_statistics_name_basket_minerals(baskets: pl.DataFrame) -> None:
    usgs = reference.load_mineral_usgs()
    assert set(usgs["mineral"]) <= set(baskets["mineral"])
    assert usgs.select("mineral", "statistic").is_duplicated().sum() == 0
    assert usgs.filter(pl.col("measure").str.strip_chars() == "").height == 0
    # Minerals without a country-level MCS figure are named in the docs.
    docs = DOCS.read_text()
    for mineral in set(baskets["mineral"]) - set(usgs["mineral"]):
        assert f"`{mineral}`" in docs, f"{mineral} has no MCS statistic and no word why"


# --- the loader rejects malformed rows, naming the line ----------------------------

HEADER = "mineral,label,hs6,editions,stage,shared_basket,note,lists,citation\n"
GOOD = "zinc,Zinc,260800,HS92-HS22,ore,false,Zinc ores.,USGS2025,HS 2022 heading 26.08\n"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("zinc,Zinc,26080,HS92-HS22,ore,false,n,USGS2025,c\n", "hs6 '26080'"),
        ("zinc,Zinc,260800,HS92-HS22,concentrate,false,n,USGS2025,c\n", "stage 'concentrate'"),
        ("zinc,Zinc,260800,HS92-HS22,ore,false,n,USGS2024,c\n", "USGS2024"),
        ("zinc,Zinc,260800,HS92-HS22,ore,false,,USGS2025,c\n", "note must not be empty"),
        ("zinc,Zinc,260800,HS92-HS22,ore,false,n,USGS2025,\n", "citation must not be empty"),
        ("zinc,Zinc,790111,HS92-HS22,refined,false,n,USGS2025;EU2023,c\n", "differ"),
        ("zinc,Zinc,260800,HS17-HS22,ore,false,n,USGS2025,c\n", "already has 260800 in HS17"),
        ("zinc,Zinc,790111,HS93,refined,false,n,USGS2025,c\n", "editions 'HS93'"),
        ("zinc,Zinc,790111,HS92-HS22,refined,maybe,n,USGS2025,c\n", "shared_basket 'maybe'"),
    ],
)
def test_loader_rejects_a_bad_row_naming_its_line(tmp_path: Path, row: str, message: str) -> None:
    path = tmp_path / "baskets.csv"
    path.write_text(HEADER + GOOD + row)
    with pytest.raises(ReferenceError, match=rf"baskets.csv line 3: .*{re.escape(message)}"):
        reference.load_mineral_baskets(path)


def test_loader_rejects_missing_columns(tmp_path: Path) -> None:
    path = tmp_path / "baskets.csv"
    path.write_text(
        "mineral,label,hs6,editions,stage,shared_basket,note\n" + GOOD.rsplit(",", 2)[0] + "\n"
    )
    with pytest.raises(ReferenceError, match="missing columns.*lists.*citation"):
        reference.load_mineral_baskets(path)


def test_loader_expands_editions_and_splits_lists(tmp_path: Path) -> None:
    path = tmp_path / "baskets.csv"
    path.write_text(HEADER + GOOD + "zinc,Zinc,790111,HS17-HS22,refined,true,n,USGS2025,c\n")
    frame = reference.load_mineral_baskets(path)
    assert frame.filter(pl.col("hs6") == "260800")["hs_edition"].to_list() == list(HS_EDITIONS)
    assert frame.filter(pl.col("hs6") == "790111")["hs_edition"].to_list() == ["HS17", "HS22"]
    assert frame["lists"].to_list()[0] == ["USGS2025"]
    assert frame.schema["lists"] == pl.List(pl.String)


# --- against the real HS code lists and correlation tables -------------------------


def _code_list(shared_data: Path, edition: str) -> set[str]:
    path = shared_data / "trade" / "hs-concordance-unsd" / CODE_LISTS[edition]
    results = json.loads(path.read_text(encoding="utf-8"))["results"]
    return {row["id"] for row in results if SIX_DIGITS.match(row["id"])}


def _correlation(shared_data: Path, pair: tuple[str, str]) -> set[tuple[str, str]]:
    """(newer code, older code) pairs of a UNSD correlation sheet."""
    pytest.importorskip("fastexcel", reason="reading the UNSD tables needs fastexcel")
    import fastexcel

    path = shared_data / "trade" / "hs-concordance-unsd" / CORRELATIONS[pair]
    sheet = next(name for name in fastexcel.read_excel(path).sheet_names if "orrelation" in name)
    table = pl.read_excel(
        path,
        sheet_name=sheet,
        engine="calamine",
        has_header=False,
        read_options={"dtypes": "string"},
    )
    pairs = set()
    for row in table.iter_rows():
        codes = [cell.strip() for cell in row if cell and SIX_DIGITS.match(cell.strip())]
        if len(codes) >= 2:
            pairs.add((codes[0], codes[1]))
    assert len(pairs) > 5000, f"{path.name}: the correlation sheet was not read"
    return pairs


@pytest.mark.parametrize("edition", sorted(CODE_LISTS))
def test_every_code_exists_in_its_edition(
    shared_data: Path, baskets: pl.DataFrame, edition: str
) -> None:
    codes = _code_list(shared_data, edition)
    used = set(baskets.filter(pl.col("hs_edition") == edition)["hs6"])
    assert used - codes == set()


@pytest.mark.parametrize("pair", sorted(CORRELATIONS), ids="-".join)
def test_baskets_agree_with_the_unsd_correlation(
    shared_data: Path, baskets: pl.DataFrame, pair: tuple[str, str]
) -> None:
    newer, older = pair
    correlation = _correlation(shared_data, pair)
    problems = []
    for (mineral,), rows in baskets.group_by("mineral"):
        new = dict(rows.filter(pl.col("hs_edition") == newer).select("hs6", "note").iter_rows())
        old = dict(rows.filter(pl.col("hs_edition") == older).select("hs6", "note").iter_rows())
        for new_code, old_code in correlation:
            if new_code in new and old_code not in old and not names_code(new[new_code], old_code):
                problems.append(f"{mineral}: {newer} {new_code} <- {older} {old_code}")
            if old_code in old and new_code not in new and not names_code(old[old_code], new_code):
                problems.append(f"{mineral}: {older} {old_code} -> {newer} {new_code}")
    assert not problems, "codes that correspond outside the basket:\n" + "\n".join(problems)


def test_usgs_statistics_exist_in_mcs(shared_data: Path) -> None:
    from critmin.ingest.usgs_mcs import statistic_label

    path = shared_data / "production" / "usgs_mcs2026_commodities_data.csv"
    mcs = pl.read_csv(path, encoding="cp1252", infer_schema=False)
    countries: dict[tuple[str, str], set[str]] = {}
    for row in mcs.iter_rows(named=True):
        key = (
            (row["Commodity"] or "").strip(),
            statistic_label(row["Statistics"], row["Statistics_detail"]),
        )
        countries.setdefault(key, set()).add(row["Country"])
    for row in reference.load_mineral_usgs().iter_rows(named=True):
        found = countries.get((row["mcs_commodity"], row["statistic"]), set())
        assert found - {"World total", "Other countries"}, (
            f"{row['mineral']}: no country figure for {row['mcs_commodity']} / {row['statistic']}"
        )


def test_docs_tables_match_the_file(baskets: pl.DataFrame) -> None:
    """docs/baskets.md lists, under each mineral's heading, exactly its codes and editions."""
    tables = DOCS.read_text().split("## The baskets, code by code", 1)[1]
    sections = re.split(r"^### ", tables, flags=re.M)[1:]
    documented: set[tuple[str, str, str]] = set()
    editions = list(HS_EDITIONS)
    for section in sections:
        mineral = re.search(r"\(`(\w+)`\)", section.splitlines()[0])
        assert mineral, section.splitlines()[0]
        for cells in re.findall(r"^\| (\d{4}\.\d{2}) \|(.*)\|$", section, re.M):
            marks = [cell.strip() for cell in cells[1].split("|")][2:]
            for edition, mark in zip(editions, marks, strict=True):
                if mark:
                    documented.add((mineral.group(1), edition, cells[0].replace(".", "")))
    in_file = set(baskets.select("mineral", "hs_edition", "hs6").iter_rows())
    assert documented == in_file
