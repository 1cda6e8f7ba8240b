"""A warehouse whose manifest.json cannot be read loses nothing: every command that writes
(each ingest, each fetch against a local server, demo, reindex) refuses to start and
leaves every file byte for byte as it was, whether the manifest is unreadable (not
text), truncated, or written by a newer critmin (an unknown format).

Without the manifest nothing says which part folders are live; a clean-up that guessed
"none" once removed every Parquet file of the warehouse."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import snapshot as fetch_snapshot
from fetch_server import (
    FileServer,
    sources_server,  # noqa: F401 - the fixture `server`: the three sources
)

from critmin.cli import main
from critmin.warehouse import JOURNAL, MANIFEST, Warehouse, WarehouseError, file_sha256

DATA = Path(__file__).parent / "data"
RECORDED_COMTRADE = DATA / "comtrade" / "kaz_2022.json"


def unreadable(text: bytes) -> bytes:
    return b"\x89PNG\r\n\x1a\n\xff\xfe\x00" * 64  # not UTF-8, not JSON


def truncated(text: bytes) -> bytes:
    return text[:-20]


def newer_format(text: bytes) -> bytes:
    manifest = json.loads(text)
    manifest["format"] = 2
    return json.dumps(manifest).encode()


DAMAGE: dict[str, Callable[[bytes], bytes]] = {
    "unreadable": unreadable,
    "truncated": truncated,
    "newer format": newer_format,
}

# Every command that opens a transaction on the warehouse, with arguments that load
# real-format sample files (tests/data) or download from the local server.
INGEST_COMMANDS: dict[str, list[str]] = {
    "ingest baci": ["ingest", "baci", str(DATA / "baci"), "--replace"],
    "ingest comtrade": ["ingest", "comtrade", str(RECORDED_COMTRADE)],
    "ingest comtrade-monthly": [
        "ingest",
        "comtrade-monthly",
        str(DATA / "comtrade_monthly" / "kaz_exports_2025m01.json"),
    ],
    "ingest comext": [
        "ingest",
        "comext",
        str(DATA / "comext" / "full_202501.dat"),
        "--eur-usd",
        str(DATA / "comext" / "ecb_exr_usd_eur.csv"),
    ],
    "ingest census": ["ingest", "census", str(DATA / "census" / "imports_hs6_2025-06.json")],
    "ingest usgs-mcs": ["ingest", "usgs-mcs", str(DATA / "usgs_mcs" / "mcs2026_sample.csv")],
    "ingest deposits": [
        "ingest",
        "deposits",
        str(DATA / "deposits" / "mrds_sample.csv"),
        "--format",
        "mrds",
    ],
    "demo --force": ["demo", "--force"],
    "demo --if-missing": ["demo", "--if-missing"],
    "reindex": ["reindex"],
}
FETCH_COMMANDS: dict[str, list[str]] = {
    "fetch baci": ["fetch", "baci", "--replace"],
    "fetch usgs-mcs": ["fetch", "usgs-mcs"],
    "fetch deposits": ["fetch", "deposits"],
    "fetch all": ["fetch", "all"],
    "fetch comtrade": ["fetch", "comtrade", "--reporter", "KAZ", "--years", "2022"],
}
# The monthly fetchers, against the same local server answering as they publish.
MONTHLY_FETCH_COMMANDS: dict[str, list[str]] = {
    "fetch comext": ["fetch", "comext", "--months", "2025-01:2025-03", "--minerals", "gallium"],
    "fetch census": ["fetch", "census", "--months", "2025-05:2025-06", "--minerals", "gallium"],
}
RETRIES = ["--retries", "1", "--backoff", "0"]


def test_every_command_that_writes_has_its_cases() -> None:
    """A new ingest or fetch command is added here too (the tests below then cover it)."""
    from critmin.cli import FETCH_SOURCES, INGEST_SOURCES

    assert {f"ingest {s.name}" for s in INGEST_SOURCES} <= set(INGEST_COMMANDS)
    assert {f"fetch {s.name}" for s in FETCH_SOURCES} == set(FETCH_COMMANDS) | set(
        MONTHLY_FETCH_COMMANDS
    )


def every_file(root: Path) -> dict[str, str]:
    """Every file of the warehouse (the download cache and the lock aside) and its SHA-256."""
    return fetch_snapshot(root)


def damage(root: Path, how: str) -> None:
    path = root / MANIFEST
    path.write_bytes(DAMAGE[how](path.read_bytes()))


def assert_refused_and_untouched(code: int, before: dict[str, str], root: Path, err: str) -> None:
    assert code == 1
    assert MANIFEST in err and "Traceback" not in err
    assert every_file(root) == before  # nothing removed, nothing changed, nothing added
    assert not (root / JOURNAL).exists()


@pytest.mark.parametrize("how", list(DAMAGE))
@pytest.mark.parametrize("command", list(INGEST_COMMANDS))
def test_ingest_and_demo_commands_keep_every_file(
    command: str, how: str, demo_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    damage(demo_copy, how)
    before = every_file(demo_copy)
    assert len([p for p in before if p.endswith(".parquet")]) > 10
    code = main(["--data-dir", str(demo_copy), *INGEST_COMMANDS[command]])
    assert_refused_and_untouched(code, before, demo_copy, capsys.readouterr().err)


@pytest.mark.parametrize("how", list(DAMAGE))
@pytest.mark.parametrize("command", list(FETCH_COMMANDS))
def test_fetch_commands_keep_every_file(
    command: str,
    how: str,
    server: FileServer,  # noqa: F811 - the fixture imported above
    demo_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    server.serve("/data/v1/get/C/A/HS", RECORDED_COMTRADE.read_bytes(), "application/json")
    monkeypatch.setenv("COMTRADE_BASE_URL", server.url)
    monkeypatch.setenv("COMTRADE_API_KEY", "test-key")
    damage(demo_copy, how)
    before = every_file(demo_copy)
    code = main(["--data-dir", str(demo_copy), *FETCH_COMMANDS[command], *RETRIES])
    assert_refused_and_untouched(code, before, demo_copy, capsys.readouterr().err)


def test_a_transaction_refuses_before_cleaning_up(demo_copy: Path) -> None:
    """Even the clean-up of a killed writer's leftovers waits for a readable manifest."""
    orphan = demo_copy / "trade_flows" / "baci" / "v-20990101T000000-deadbeef"
    orphan.mkdir(parents=True)
    (orphan / "data.parquet").write_bytes(b"x")
    damage(demo_copy, "truncated")
    before = every_file(demo_copy)
    with pytest.raises(WarehouseError, match="corrupt"), Warehouse(demo_copy).transaction():
        raise AssertionError("the transaction must not start")
    assert every_file(demo_copy) == before


def test_data_without_a_manifest_is_kept(demo_copy: Path) -> None:
    """A manifest deleted by hand: the part folders are still someone's data."""
    (demo_copy / MANIFEST).unlink()
    before = every_file(demo_copy)
    with pytest.raises(WarehouseError, match="no manifest.json"):
        with Warehouse(demo_copy).transaction():
            raise AssertionError("the transaction must not start")
    assert every_file(demo_copy) == before
    assert main(["--data-dir", str(demo_copy), "demo"]) == 1
    assert every_file(demo_copy) == before


def test_a_killed_first_load_is_cleaned_up_from_its_journal(tmp_path: Path) -> None:
    """A first load killed before its manifest existed listed its folders in the journal:
    the next writer removes exactly those and carries on."""
    root = tmp_path / "warehouse"
    staged = root / "deposits" / "mrds" / "v-20990101T000000-0badc0de"
    staged.mkdir(parents=True)
    (staged / "data.parquet").write_bytes(b"half written")
    (root / JOURNAL).write_text(f"{staged.relative_to(root)}\n", encoding="utf-8")
    code = main(
        [
            "--data-dir",
            str(root),
            "ingest",
            "deposits",
            str(DATA / "deposits" / "mrds_sample.csv"),
            "--format",
            "mrds",
        ]
    )
    assert code == 0
    assert not staged.exists() and not (root / JOURNAL).exists()
    assert Warehouse(root).check(verify_checksums=True) == []
    assert "mrds" in Warehouse(root).parts("deposits")


def test_manifest_file_checksum_helper_is_exact(demo_copy: Path) -> None:
    """The snapshot the tests above compare reads every byte (a one-byte change shows)."""
    before = every_file(demo_copy)
    victim = next(p for p in sorted(demo_copy.rglob("*.parquet")))
    data = bytearray(victim.read_bytes())
    data[-1] ^= 1
    victim.write_bytes(bytes(data))
    after = every_file(demo_copy)
    assert after != before and after[str(victim.relative_to(demo_copy))] == file_sha256(victim)


@pytest.mark.parametrize("how", list(DAMAGE))
@pytest.mark.parametrize("command", list(MONTHLY_FETCH_COMMANDS))
def test_monthly_fetch_commands_keep_every_file(
    command: str,
    how: str,
    demo_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from fetch_server import MONTHLY_ENVS, FakeClock, publish_monthly, running

    FakeClock().install(monkeypatch)  # no real waits between paced calls
    state = FileServer()
    for stream in running(state):
        publish_monthly(stream)
        for env in MONTHLY_ENVS:
            monkeypatch.setenv(env, stream.url)
        damage(demo_copy, how)
        before = every_file(demo_copy)
        code = main(["--data-dir", str(demo_copy), *MONTHLY_FETCH_COMMANDS[command], *RETRIES])
        assert_refused_and_untouched(code, before, demo_copy, capsys.readouterr().err)
