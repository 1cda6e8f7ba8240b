"""The README stays honest: every page, command and setting it should describe."""

import re
from pathlib import Path

from critmin.cli import build_parser
from critmin.ui.registry import PAGES

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_opens_with_the_two_commands():
    first_block = README.split("```")[1]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()[1:] if line.strip()]
    # The first two set up and start the app, and run the gate; the third loads real data.
    assert commands == ["make run", "make test", "make real"]
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_every_page_is_described():
    assert {p.file for p in PAGES} == {f"pages/{f.name}" for f in (REPO / "pages").glob("*.py")}
    for page in PAGES:
        assert f"**{page.title}**" in README, page.title


def test_every_command_is_documented():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():  # type: ignore[union-attr]
        nested = [a for a in command._actions if a.dest == "source"]
        names = (
            [f"critmin {name} {s}" for s in nested[0].choices] if nested else [f"critmin {name}"]
        )
        for full in names:
            assert full in README, full


def test_every_setting_is_documented():
    code = "\n".join(p.read_text() for p in (REPO / "src" / "critmin").rglob("*.py"))
    for variable in sorted(set(re.findall(r'"((?:CRITMIN|COMTRADE)_[A-Z_]+)"', code))):
        assert variable in README, variable


def test_every_table_is_described():
    from critmin.schema import TABLES

    for table in TABLES:
        assert f"| `{table}` |" in README, table


def test_the_module_list_follows_the_package():
    """README's "How it is built" names every module of src/critmin, and only those."""
    section = README.split("## How it is built", 1)[1].split("\n## ", 1)[0]
    named = set(re.findall(r"`((?:[a-z_]+/)?[a-z_]+\.py)`", section))
    package = REPO / "src" / "critmin"
    modules = {str(p.relative_to(package)) for p in package.rglob("*.py")}
    assert modules - named == set(), "modules missing from the README"
    unknown = {name for name in named - modules if name not in {"app.py"}}
    unknown -= {n for n in unknown if (REPO / "scripts" / n).exists() or (REPO / n).exists()}
    assert unknown == set(), "the README names modules that do not exist"


def test_the_sources_table_follows_the_source_files():
    """README's "Where the data come from" is the table the source files make."""
    from critmin import sources

    section = README.split("## Where the data come from", 1)[1]
    rows = [line for line in section.split("\n\n", 2)[1].splitlines() if line.startswith("|")]
    assert rows == sources.readme_table().splitlines(), (
        "README's sources table differs from src/critmin/*/sources/*.toml: paste the output "
        "of `python -m critmin.sources`"
    )
