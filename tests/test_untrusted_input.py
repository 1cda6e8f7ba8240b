"""Files from outside are held to bounds before anything is read into memory: a zip
bomb, a first line of hundreds of megabytes, a header of thousands of columns, symbolic
links, and members that are no part of the release. Each stops with a short message
(quoting at most a short excerpt of the file) and leaves the warehouse as it was; the
harmless additions of a macOS re-zip are skipped."""

from __future__ import annotations

import os
import shutil
import stat
import tracemalloc
import zipfile
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import pytest

from critmin.cli import main
from critmin.fetch import baci as fetch_baci
from critmin.fetch.download import FetchError
from critmin.ingest import common
from critmin.ingest.common import IngestError
from critmin.warehouse import Warehouse, tree_sha256

DATA = Path(__file__).parent / "data"
BACI = DATA / "baci"
SHORT = 600  # the longest one-line error message any of these may print


@pytest.fixture
def root(demo_copy: Path) -> Path:
    return demo_copy


@pytest.fixture
def unchanged(root: Path) -> Iterator[None]:
    """The warehouse is byte for byte the same after the test."""
    before = tree_sha256(root), (root / "manifest.json").read_bytes()
    yield
    assert (tree_sha256(root), (root / "manifest.json").read_bytes()) == before


@pytest.fixture
def decompressed(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the bytes any zip member yields while the test runs."""
    counted = [0]
    read, readline = zipfile.ZipExtFile.read, zipfile.ZipExtFile.readline

    def counting_read(self: zipfile.ZipExtFile, n: int = -1) -> bytes:
        data = read(self, n)
        counted[0] += len(data)
        return data

    def counting_readline(self: zipfile.ZipExtFile, limit: int = -1) -> bytes:
        data = readline(self, limit)
        counted[0] += len(data)
        return data

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    monkeypatch.setattr(zipfile.ZipExtFile, "readline", counting_readline)
    return counted


def run(root: Path, *args: object) -> tuple[int, str]:
    return main(["--data-dir", str(root), *map(str, args)]), ""


def cli(root: Path, capsys: pytest.CaptureFixture[str], *args: object) -> str:
    """Run a command that must fail; its one-line message."""
    assert main(["--data-dir", str(root), *map(str, args)]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("critmin: ") and "\n" not in err and len(err) <= SHORT, err[:2000]
    return err


def write_member(archive: zipfile.ZipFile, name: str, chunk: bytes, size: int) -> None:
    """A member of `size` bytes made of `chunk` repeated, written in pieces."""
    info = zipfile.ZipInfo(name)
    info.compress_type = zipfile.ZIP_DEFLATED
    with archive.open(info, "w", force_zip64=True) as member:
        written = 0
        block = chunk * max(1, (4 << 20) // len(chunk))
        while written < size:
            piece = block[: size - written]
            member.write(piece)
            written += len(piece)


def release_zip(path: Path, extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(BACI.iterdir()):
            archive.write(file, file.name)
        for name, body in (extra or {}).items():
            archive.writestr(name, body)
    return path


# --- archives -------------------------------------------------------------------------


def test_a_zip_bomb_is_refused_before_anything_is_decompressed(
    root: Path,
    tmp_path: Path,
    unchanged: None,
    decompressed: list[int],
    capsys: pytest.CaptureFixture[str],
) -> None:
    bomb = tmp_path / "BACI_HS17_V202501.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(BACI.iterdir()):
            archive.write(file, file.name)
        write_member(archive, "BACI_HS17_Y2019_V202501.csv", b"\0", 300 << 20)
    assert bomb.stat().st_size < 2 << 20  # 300 MB behind a zip of under 2 MB
    decompressed[0] = 0
    err = cli(root, capsys, "ingest", "baci", bomb, "--replace")
    assert "BACI_HS17_Y2019_V202501.csv expands" in err and "refused" in err
    assert decompressed[0] == 0


def test_a_member_larger_than_the_bound_is_refused(
    root: Path, tmp_path: Path, unchanged: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "MAX_MEMBER_BYTES", 40)
    with pytest.raises(IngestError, match=r"BACI_HS17_Y2017_V202501.csv expands to .* more than"):
        main_ingest(root, release_zip(tmp_path / "BACI_HS17_V202501.zip"))


def main_ingest(root: Path, path: Path) -> None:
    from critmin.ingest.baci import load_baci

    load_baci(path, Warehouse(root), replace=True)


def test_a_symbolic_link_inside_a_zip_is_refused(
    root: Path, tmp_path: Path, unchanged: None
) -> None:
    path = release_zip(tmp_path / "BACI_HS17_V202501.zip")
    with zipfile.ZipFile(path, "a") as archive:
        link = zipfile.ZipInfo("BACI_HS17_Y2019_V202501.csv")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, "/etc/passwd")
    with pytest.raises(IngestError, match="is a symbolic link"):
        main_ingest(root, path)


def test_a_macos_rezip_loads_and_says_what_it_skipped(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = release_zip(
        tmp_path / "BACI_HS17_V202501.zip",
        {
            "__MACOSX/._BACI_HS17_Y2017_V202501.csv": b"\0\5\26\7 Mac OS X resource fork",
            "__MACOSX/._country_codes_V202501.csv": b"\0\5\26\7",
            ".DS_Store": b"\0\0\0\1Bud1",
        },
    )
    assert main(["--data-dir", str(root), "ingest", "baci", str(path), "--replace"]) == 0
    out = capsys.readouterr().out
    assert "3 zip member(s) that are no part of a release skipped" in out
    assert Warehouse(root).parts("trade_flows")["baci"].years == [2017, 2018]
    fetch_baci.check_release_zip(path, path.name, release="V202501", edition="HS17")


def test_a_renamed_csv_of_another_release_inside_a_zip_is_refused(
    root: Path, tmp_path: Path, unchanged: None, capsys: pytest.CaptureFixture[str]
) -> None:
    other = (BACI / "BACI_HS17_Y2018_V202501.csv").read_bytes().replace(b"2018,", b"2019,")
    path = release_zip(tmp_path / "BACI_HS17_V202501.zip", {"flows_2019.csv": other})
    err = cli(root, capsys, "ingest", "baci", path, "--replace")
    assert "flows_2019.csv: not a file of a BACI release" in err
    with pytest.raises(FetchError, match="flows_2019.csv is not a file of BACI HS17 V202501"):
        fetch_baci.check_release_zip(path, path.name, release="V202501", edition="HS17")


def test_check_release_zip_reads_a_huge_first_line_no_further_than_its_bound(
    tmp_path: Path, decompressed: list[int]
) -> None:
    """A first line longer than the header bound (20 MB, under the ratio check's floor)
    is refused without holding it: memory stays within a few megabytes."""
    path = tmp_path / "BACI_HS12_V202601.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        write_member(archive, "BACI_HS12_Y2012_V202601.csv", b"t" * 4096, 20 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(FetchError, match="starts with a line longer than 64.0 KB") as error:
            fetch_baci.check_release_zip(path, path.name, release="V202601", edition="HS12")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, peak
    assert len(str(error.value)) < 300


def test_check_release_zip_refuses_a_bomb_from_its_directory(
    tmp_path: Path, decompressed: list[int]
) -> None:
    path = tmp_path / "BACI_HS12_V202601.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        write_member(
            archive, "BACI_HS12_Y2012_V202601.csv", b"t,i,j,k,v,q\n" + b"1" * 500, 200 << 20
        )
    decompressed[0] = 0
    with pytest.raises(FetchError, match="expands"):
        fetch_baci.check_release_zip(path, path.name, release="V202601", edition="HS12")
    assert decompressed[0] == 0


# --- lines and columns ----------------------------------------------------------------


def wide_header(columns: int) -> bytes:
    return (",".join(f"column_{i}" for i in range(columns)) + "\n1\n").encode()


@pytest.mark.parametrize(
    ("command", "name"),
    [
        (["ingest", "deposits", "{path}", "--format", "mrds"], "mrds.csv"),
        (["ingest", "deposits", "{path}"], "sites.csv"),
        (["ingest", "comtrade", "{path}"], "comtrade.csv"),
        (["ingest", "usgs-mcs", "{path}"], "MCS2026_Commodities_Data.csv"),
        (["ingest", "baci", "{path}", "--release", "V202501", "--hs-edition", "HS17"], "x.csv"),
    ],
)
@pytest.mark.parametrize("columns", [2_000, 5_000_000])
def test_a_header_of_thousands_of_columns_is_a_short_error(
    command: list[str],
    name: str,
    columns: int,
    root: Path,
    tmp_path: Path,
    unchanged: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / name
    if columns > 10_000:  # 5 million columns: a 60 MB first line, written in pieces
        with path.open("wb") as handle:
            for start in range(0, columns, 100_000):
                end = min(columns, start + 100_000)
                handle.write(",".join(f"c{i}" for i in range(start, end)).encode() + b",")
            handle.write(b"\n1\n")
    else:
        path.write_bytes(wide_header(columns))
    err = cli(root, capsys, *[part.format(path=path) for part in command])
    assert "line 1" in err and str(path) in err
    assert ("2,000 columns" in err) if columns == 2_000 else ("longer than 64.0 KB" in err)


def test_a_baci_dictionary_with_too_many_columns_is_a_short_error(
    root: Path, tmp_path: Path, unchanged: None, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "release"
    shutil.copytree(BACI, folder)
    (folder / "country_codes_V202501.csv").write_bytes(wide_header(3_000))
    err = cli(root, capsys, "ingest", "baci", folder, "--replace")
    assert "country_codes_V202501.csv: line 1 has 3,000 columns" in err


def test_an_overlong_line_in_the_middle_is_named(
    root: Path, tmp_path: Path, unchanged: None, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = (DATA / "deposits" / "mrds_sample.csv").read_bytes()
    header, first, rest = sample.split(b"\n", 2)
    path = tmp_path / "mrds.csv"
    path.write_bytes(header + b"\n" + first + b"\n" + b"x" * (3 << 20) + b"\n" + rest)
    err = cli(root, capsys, "ingest", "deposits", path, "--format", "mrds")
    assert "line 3 is longer than 1.0 MB" in err


def test_an_oversized_file_is_refused_by_its_size(
    root: Path, tmp_path: Path, unchanged: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(common, "MAX_TABLE_BYTES", 1000)
    path = DATA / "comtrade" / "kaz_2022.json"
    assert path.stat().st_size > 1000
    from critmin.ingest import comtrade

    monkeypatch.setattr(comtrade, "MAX_TABLE_BYTES", 1000)
    with pytest.raises(IngestError, match="more than the 1,000 bytes a Comtrade response"):
        comtrade.read_json_response(path)


def test_a_first_line_is_not_echoed_beyond_an_excerpt(
    root: Path, tmp_path: Path, unchanged: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file that is not BACI is named with a few of its column names, never its whole
    first line."""
    secret = "api_key=" + "s3cr3t" * 4000
    path = tmp_path / "BACI_HS17_Y2017_V202501.csv"
    path.write_text(f"{secret},other\n1,2\n", encoding="utf-8")
    err = cli(root, capsys, "ingest", "baci", path, "--replace")
    assert "missing column(s) t, i, j, k, v, q" in err
    assert secret not in err and "s3cr3t" * 20 not in err


# --- symbolic links -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "target"),
    [
        (["ingest", "baci", "{link}", "--replace"], BACI / "BACI_HS17_Y2017_V202501.csv"),
        (["ingest", "baci", "{link}", "--replace"], BACI),
        (["ingest", "comtrade", "{link}"], DATA / "comtrade" / "kaz_2022.json"),
        (["ingest", "usgs-mcs", "{link}"], DATA / "usgs_mcs" / "mcs2026_sample.csv"),
        (
            ["ingest", "deposits", "{link}", "--format", "mrds"],
            DATA / "deposits" / "mrds_sample.csv",
        ),
        (["ingest", "deposits", "{link}"], DATA / "deposits" / "jasansky"),
        (["ingest", "comtrade-monthly", "{link}"], DATA / "comtrade_monthly"),
        (["ingest", "census", "{link}"], DATA / "census" / "imports_hs6_2025-06.json"),
    ],
)
def test_a_symbolic_link_is_refused(
    command: list[str],
    target: Path,
    root: Path,
    tmp_path: Path,
    unchanged: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    link = tmp_path / target.name
    os.symlink(target, link)
    err = cli(root, capsys, *[part.format(link=link) for part in command])
    assert "symbolic link" in err


@pytest.mark.parametrize(
    ("command", "source", "inner"),
    [
        (["ingest", "baci", "{folder}", "--replace"], BACI, "BACI_HS17_Y2018_V202501.csv"),
        (["ingest", "comtrade", "{folder}"], DATA / "comtrade", "kaz_2019.json"),
        (["ingest", "deposits", "{folder}"], DATA / "deposits" / "jasansky", "commodities.csv"),
    ],
)
def test_a_symbolic_link_inside_a_folder_is_refused(
    command: list[str],
    source: Path,
    inner: str,
    root: Path,
    tmp_path: Path,
    unchanged: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tmp_path / "input"
    shutil.copytree(source, folder)
    (folder / inner).unlink()
    os.symlink(source / inner, folder / inner)
    err = cli(root, capsys, *[part.format(folder=folder) for part in command])
    assert "symbolic link" in err and inner in err


# --- encodings ------------------------------------------------------------------------


def test_a_cp1252_dictionary_is_read_as_cp1252_and_says_so(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "release"
    shutil.copytree(BACI, folder)
    products = folder / "product_codes_HS17_V202501.csv"
    text = products.read_text(encoding="utf-8")
    text += '720299,"Gallium, unwrought — “pure” 99.99 %, in ingots; déchets"\n'
    products.write_bytes(text.encode("cp1252"))
    assert main(["--data-dir", str(root), "ingest", "baci", str(folder), "--replace"]) == 0
    assert "product_codes_HS17_V202501.csv: not UTF-8, read as cp1252" in capsys.readouterr().out
    part = Warehouse(root).parts("products")["baci"]
    stored = pl.read_parquet([root / f for f in part.files])
    description = stored.filter(pl.col("hs6") == "720299")["description"].to_list()
    assert description == ["Gallium, unwrought — “pure” 99.99 %, in ingots; déchets"]
    assert not any("\ufffd" in d for d in stored["description"].to_list())


def test_excerpt_and_listed_keep_messages_short() -> None:
    assert common.excerpt("a\nb\x00c") == "a?b?c"
    assert common.excerpt("x" * 1000) == "x" * 80 + "…"
    assert common.listed([f"c{i}" for i in range(5000)]).endswith("… (5,000 in all)")
    assert len(common.listed(["y" * 10_000] * 20)) < 700
