"""`critmin fetch deposits`: download the USGS deposit compilations that have a public
download, and load each like `critmin ingest deposits --format <format>`.

- MRDS, the USGS Mineral Resources Data System (public domain; worldwide, systematic
  updates stopped in 2011): https://mrdata.usgs.gov/mrds/mrds-csv.zip, one zip (about
  25 MB) holding `mrds.csv` (about 300,000 sites, about 150 MB) with the columns the
  `mrds` format reads (dep_id, site_name, latitude, longitude, country, commod1-3,
  dev_stat, ...). The zip's CRC test and the CSV header are checked before loading. The
  CSV is extracted into the cache (as UTF-8: a file in another encoding is converted
  from cp1252, and the summary says so) and loaded as the `mrds` part.

The other compilations the app cites (Major mineral deposits of the world, porphyry
copper, ... as repackaged by MinMod; Professional Paper 1802) are published as
geodatabases or shapefiles, not in a format the ingest reads: load their CSV exports
with `critmin ingest deposits`.

Cache first: a zip already in the cache, or passed with `--file`, is used without the
network. A refusal names the page to download the zip from by hand and where to save it.

Base URL: `--base-url`, or $CRITMIN_MRDS_BASE_URL, or https://mrdata.usgs.gov.
"""

from __future__ import annotations

import argparse
import codecs
import logging
import os
import shutil
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import requests

from critmin.fetch import download, http
from critmin.fetch.http import ByHand, FetchError, Policy
from critmin.ingest import common
from critmin.ingest import deposits as ingest_deposits
from critmin.warehouse import Warehouse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Compilation:
    name: str  # the warehouse part and the ingest format
    title: str
    default_base: str
    base_env: str
    path: str  # under the base URL
    member: str  # the CSV inside the zip
    page: str  # where a person finds the download


MRDS = Compilation(
    name="mrds",
    title="USGS Mineral Resources Data System (MRDS)",
    default_base="https://mrdata.usgs.gov",
    base_env="CRITMIN_MRDS_BASE_URL",
    path="/mrds/mrds-csv.zip",
    member="mrds.csv",
    page="https://mrdata.usgs.gov/mrds/",
)
COMPILATIONS = {c.name: c for c in (MRDS,)}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--source",
        choices=sorted(COMPILATIONS),
        action="append",
        help="compilation to fetch (default: every one listed)",
    )
    parser.add_argument(
        "--file",
        help="the compilation's zip, already downloaded (with one --source): loaded without "
        "the network",
    )
    download.add_download_arguments(parser, base_env=MRDS.base_env, default_base=MRDS.default_base)


def _member(names: list[str], wanted: str) -> str | None:
    return next((n for n in names if PurePosixPath(n).name.lower() == wanted.lower()), None)


def check_compilation_zip(path: Path, label: str, compilation: Compilation) -> None:
    """Every member passes its CRC test and the CSV has the format's columns."""
    required = ingest_deposits.REQUIRED[compilation.name]
    try:
        with zipfile.ZipFile(path) as archive:
            try:  # sizes and ratios from the zip's directory, before decompressing
                infos, _ = common.release_members(archive, label)
            except common.IngestError as error:
                raise FetchError(str(error)) from error
            damaged = archive.testzip()
            names = [i.filename for i in infos]
            member = _member(names, compilation.member)
            header = ""
            if member is not None:
                with archive.open(member) as handle:
                    raw = handle.readline(common.MAX_HEADER_BYTES + 1)
                if len(raw) > common.MAX_HEADER_BYTES:
                    raise FetchError(f"{label}: {member} starts with an overlong line")
                header = raw.decode("utf-8-sig", "replace").strip()
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as error:
        raise FetchError(f"{label} is not a complete zip archive ({error})") from error
    except zlib.error as error:  # a member's compressed data is damaged
        raise FetchError(
            f"{label} is damaged: a member cannot be decompressed ({error})"
        ) from error
    if damaged:
        raise FetchError(f"{label} is damaged: {damaged} fails its CRC check")
    if member is None:
        raise FetchError(
            f"{label} holds no {compilation.member}; found {common.listed(names, 6) or 'nothing'}"
        )
    columns = {c.strip().strip('"') for c in header.split(",")}
    missing = [c for c in required if c not in columns]
    if missing:
        raise FetchError(
            f"{label}: {member} is not in the {compilation.name} layout (no column "
            f"{', '.join(missing)})"
        )


def extract_csv(archive_path: Path, compilation: Compilation, target: Path) -> str:
    """The zip's CSV as UTF-8 at `target`; the encoding it was read in. Re-extracted only
    when the zip changed (a record of the zip's size and time sits beside the CSV)."""
    stamp = target.with_name(target.name + ".from")
    source = archive_path.stat()
    key = f"{archive_path.name} {source.st_size} {source.st_mtime_ns}"
    if target.is_file() and stamp.is_file():
        saved = stamp.read_text(encoding="utf-8").split("\n")
        if saved[0] == key:
            return saved[1] if len(saved) > 1 else "UTF-8"
    tmp = target.with_name(f".{target.name}.tmp")
    with zipfile.ZipFile(archive_path) as archive:
        member = _member(archive.namelist(), compilation.member)
        assert member is not None  # checked before
        encoding = "UTF-8"
        with archive.open(member) as src, tmp.open("wb") as dst:
            decoder = codecs.getincrementaldecoder("utf-8")()
            try:
                for block in iter(lambda: src.read(1 << 22), b""):
                    decoder.decode(block)
                    dst.write(block)
                decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                encoding = "cp1252"
        if encoding != "UTF-8":
            with archive.open(member) as src, tmp.open("wb") as dst:
                reader = codecs.getreader("cp1252")(src, "replace")
                writer = codecs.getwriter("utf-8")(dst)
                shutil.copyfileobj(reader, writer, 1 << 20)
    os.replace(tmp, target)
    stamp.write_text(f"{key}\n{encoding}", encoding="utf-8")
    return encoding


@dataclass
class Prepared:
    compilation: Compilation
    csv: Path
    encoding: str
    download: download.Downloaded


def fetch(
    compilation: Compilation,
    *,
    cache: Path,
    base: str,
    policy: Policy,
    session: requests.Session | None = None,
    file: Path | None = None,
    command: str = "critmin fetch deposits",
) -> Prepared:
    """The compilation's zip (from --file, the cache, or the server), checked, and its
    CSV extracted into the cache."""
    folder = cache / "deposits" / compilation.name
    archive = zip_target(cache, compilation)
    if file is not None:
        if not file.is_file():
            raise FetchError(
                f"--file {file}: no such file ({PurePosixPath(compilation.path).name} expected)"
            )
        check_compilation_zip(file, str(file), compilation)
        print(f"{compilation.title}: using {file} (--file); nothing downloaded")
        got = download.Downloaded(file, "", file.stat().st_size, reused=True)
        archive = file
    else:
        got = download.fetch_file(
            base + compilation.path,
            archive,
            session=session or http.make_session(policy),
            policy=policy,
            check=lambda path, label: check_compilation_zip(path, label, compilation),
            by_hand=ByHand(
                what=archive.name, page=compilation.page, save_as=str(archive), then=command
            ),
        )
        print(f"{compilation.title}: {got.describe()}")
    with download.writing_to(folder):
        folder.mkdir(parents=True, exist_ok=True)
        encoding = extract_csv(archive, compilation, folder / compilation.member)
    if encoding != "UTF-8":
        print(f"{compilation.title}: {compilation.member} was {encoding}; converted to UTF-8")
    return Prepared(compilation, folder / compilation.member, encoding, got)


def zip_target(cache: Path, compilation: Compilation) -> Path:
    return cache / "deposits" / compilation.name / PurePosixPath(compilation.path).name


def check(
    session: requests.Session, compilation: Compilation, *, cache: Path, base: str, policy: Policy
) -> download.SourceCheck:
    """What `fetch` would download, asked without downloading it."""
    return download.check_file(
        session,
        compilation.title,
        base + compilation.path,
        "as published (no release number)",
        zip_target(cache, compilation),
        policy,
    )


def ingest(prepared: Prepared, warehouse: Warehouse) -> int:
    return ingest_deposits.run(
        argparse.Namespace(
            path=str(prepared.csv),
            format=prepared.compilation.name,
            part=None,
            licence=None,
            citation=None,
        ),
        warehouse,
    )


def run(args: argparse.Namespace, warehouse: Warehouse) -> int:
    policy = download.policy_from(args)
    session = http.make_session(policy)
    cache = download.cache_root(args, warehouse.root)
    names = args.source or sorted(COMPILATIONS)
    if args.file and len(names) != 1:
        raise FetchError("--file loads one compilation: name it with --source")
    for name in names:
        compilation = COMPILATIONS[name]
        prepared = fetch(
            compilation,
            cache=cache,
            base=download.base_url(args.base_url, compilation.base_env, compilation.default_base),
            policy=policy,
            session=session,
            file=Path(args.file).expanduser() if args.file else None,
        )
        with download.loading_into(warehouse, prepared.csv.parent):
            ingest(prepared, warehouse)
    return 0
