"""Build `src/critmin/reference/hs_texts.csv`: each HS edition's own text of every code
the mineral baskets carry, so the app shows an HS1992 code with its HS1992 wording
without the network.

    .venv/bin/python scripts/build_hs_texts.py [--lists DIR ...] [--out PATH] [--check]

Input: the UN Comtrade HS classification lists, one JSON file per edition,
`classificationH0.json` (HS1992) ... `classificationH6.json` (HS2022), as the UN
published them at https://comtrade.un.org/data/cache/classificationH<n>.json
(`{"results": [{"id": "811292", "text": "811292 - Gallium, ...", "parent": "8112"}]}`).
Their six-digit texts are self-contained ("Gallium, hafnium, indium, niobium (columbium)
and rhenium; articles thereof, unwrought, ..."), unlike the later Comtrade+ reference
lists, whose subheadings read "-- Unwrought; waste and scrap; powders".

The lists are looked for in each `--lists` folder in turn, then in
`$CRITMIN_SHARED_DATA/trade/hs-concordance-unsd/` (default `../shared/data`), which holds
HS2012-HS2022. The HS1992-HS2007 files are the same UN lists as kept in `data-raw/` of
the R package concordance (github.com/insongkim/concordance, commit 201c812, MIT).

Output: one row per code and run of consecutive editions with the same text
(`hs6,editions,description`, editions written as in mineral_baskets.csv). Only the
basket codes are kept (a few hundred texts, not the 45,000 of the lists); a BACI
release brings its own dictionary for every other code. `--check` compares with the
committed file instead of writing it (exit 1 when they differ). The output is
deterministic.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from critmin.domain import HS_EDITIONS
from critmin.reference import REFERENCE_DIR, load_mineral_baskets

REPO = Path(__file__).resolve().parents[1]
OUT = REFERENCE_DIR / "hs_texts.csv"
# HS1992 is the UN's H0, ... HS2022 its H6.
LIST_NUMBER = {edition: number for number, edition in enumerate(HS_EDITIONS)}
LIST_NAME = "classificationH{}.json"
UNSD_FOLDER = Path("trade") / "hs-concordance-unsd"
SIX_DIGITS = re.compile(r"^\d{6}$")
CODE_PREFIX = re.compile(r"^\d{6}\s*-\s*")


class ListMissing(FileNotFoundError):
    """An edition's UN list is in none of the folders searched."""


def shared_data() -> Path:
    override = os.environ.get("CRITMIN_SHARED_DATA")
    return Path(override) if override else REPO.parent / "shared" / "data"


def list_path(edition: str, folders: Iterable[Path]) -> Path:
    name = LIST_NAME.format(LIST_NUMBER[edition])
    searched = list(folders)
    for folder in searched:
        if (folder / name).is_file():
            return folder / name
    raise ListMissing(
        f"{name} ({edition}) is in none of: {', '.join(str(f) for f in searched) or '(none)'}"
    )


def read_list(path: Path) -> dict[str, str]:
    """Six-digit code -> text of one UN classification list, without the code prefix."""
    results = json.loads(path.read_text(encoding="utf-8"))["results"]
    texts = {}
    for row in results:
        code = str(row["id"])
        if SIX_DIGITS.match(code):
            texts[code] = " ".join(CODE_PREFIX.sub("", str(row["text"])).split())
    if len(texts) < 4000:
        raise ValueError(f"{path}: {len(texts)} six-digit codes, not a whole HS edition")
    return texts


def edition_texts(folders: Sequence[Path]) -> dict[str, dict[str, str]]:
    return {edition: read_list(list_path(edition, folders)) for edition in HS_EDITIONS}


def build_rows(texts: dict[str, dict[str, str]], codes: Iterable[str]) -> list[dict[str, str]]:
    """One row per code and run of consecutive editions that give it the same text."""
    rows = []
    for code in sorted(set(codes)):
        run: list[str] = []
        text = None
        for edition in [*HS_EDITIONS, None]:
            current = texts[edition].get(code) if edition else None
            if run and current != text:
                assert text is not None
                editions = run[0] if len(run) == 1 else f"{run[0]}-{run[-1]}"
                rows.append({"hs6": code, "editions": editions, "description": text})
                run = []
            if current is not None:
                run.append(str(edition))
                text = current
    return rows


def to_csv(rows: list[dict[str, str]]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=["hs6", "editions", "description"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lists", type=Path, action="append", default=[])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    folders = [*args.lists, shared_data() / UNSD_FOLDER]
    try:
        texts = edition_texts(folders)
    except ListMissing as error:
        print(f"build_hs_texts: {error}", file=sys.stderr)
        return 2
    codes = set(load_mineral_baskets()["hs6"])
    missing = sorted(
        f"{e} {c}"
        for e, c in load_mineral_baskets().select("hs_edition", "hs6").iter_rows()
        if c not in texts[e]
    )
    if missing:
        print(f"build_hs_texts: basket codes not in their edition: {missing}", file=sys.stderr)
        return 1
    content = to_csv(build_rows(texts, codes))
    if args.check:
        same = args.out.is_file() and args.out.read_text(encoding="utf-8") == content
        print(f"{args.out}: {'up to date' if same else 'differs from the UN lists'}")
        return 0 if same else 1
    args.out.write_text(content, encoding="utf-8")
    print(f"{args.out}: {content.count(chr(10)) - 1} texts of {len(codes)} codes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
