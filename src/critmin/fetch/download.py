"""Files from the sources' servers: cache first, resumable, checked before anything loads.

Every request goes through the polite session of `critmin.fetch.http` (pacing, a
User-Agent naming critmin, retries honouring Retry-After, refusals in words). On top of
it, `fetch_file` is a few named steps:

1. `from_cache`: a complete, verified file already at the target (downloaded earlier,
   or saved there by hand after a refusal) is used without asking the network. Its
   record `<name>.json` (URL, size, validators, MD5, when) says it was verified; a file
   without one is checked afresh.
2. `transfer`: the file is written as `<name>.part` beside a sidecar `<name>.part.json`
   (URL, expected size, ETag / Last-Modified). `resume_headers` asks for the rest of a
   part with `Range` and `If-Range`; `accept_answer` appends a 206 that continues the
   part, restarts on a 200 (the file changed, or the server ignores ranges), and turns
   a refusal into a message; `write_body` streams the body, and refuses a web page
   (a browser check, a login page) before a byte of it is saved. A connection that
   drops or stalls mid-file is resumed in the same run, with the same back-off.
3. `verify_download`: the size against Content-Length (and the size and MD5 a source
   publishes), then the source's own check (zip CRC test, CSV header). A file that
   fails is removed and the fetch stops with a one-line reason.
4. `promote`: the part becomes the file and its record is written.

Disks: a read-only, unwritable or full folder (EROFS, EACCES, ENOSPC) stops with a
message naming the folder; a partial download stays as `.part` for a later resume.
Progress: a tqdm bar on stderr with bytes, rate and time left (hidden when stderr is
not a terminal).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import errno
import hashlib
import json
import logging
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests
from tqdm import tqdm
from urllib3.exceptions import MaxRetryError, ProtocolError

from critmin.fetch import http
from critmin.fetch.http import (
    DEFAULT_BACKOFF,
    DEFAULT_MAX_WAIT,
    DEFAULT_PACE,
    DEFAULT_RETRIES,
    DEFAULT_TIMEOUT,
    ByHand,
    FetchError,
    Policy,
    PoliteRetry,
)
from critmin.warehouse import Warehouse

log = logging.getLogger(__name__)

CHUNK_BYTES = 1 << 16  # what a dropped connection can cost: the chunk in flight
MAX_RESTARTS = 3
KEEP_NOTE = "; the partial download is kept and resumes on the next run"
# Errors of the folder being written, not of the download.
DISK_ERRNOS = {errno.EROFS, errno.ENOSPC, errno.EACCES, errno.EPERM, errno.EDQUOT}
DROPPED = (
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
)


# --- command-line options every fetcher shares -------------------------------------------


def add_download_arguments(
    parser: argparse.ArgumentParser,
    *,
    base_env: str | None,
    default_base: str | None,
    pace: float = DEFAULT_PACE,
) -> None:
    """--cache-dir, --retries, --backoff, --timeout, --pace, --max-wait (and --base-url
    when given a default)."""
    parser.add_argument("--cache-dir", help="where downloads are kept (default: <data dir>/cache)")
    if default_base is not None:
        parser.add_argument(
            "--base-url",
            default=None,
            help=f"server to download from, e.g. a mirror (default: ${base_env} or {default_base})",
        )
    parser.add_argument(
        "--retries", type=int, default=DEFAULT_RETRIES, help="retries on 429/5xx/network errors"
    )
    parser.add_argument(
        "--backoff",
        type=float,
        default=DEFAULT_BACKOFF,
        help="back-off factor in seconds (doubles each retry; Retry-After is honoured)",
    )
    parser.add_argument(
        "--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds without data before a retry"
    )
    parser.add_argument(
        "--pace",
        type=float,
        default=pace,
        help=f"seconds between two requests to one server (default {pace:g})",
    )
    parser.add_argument(
        "--max-wait",
        type=float,
        default=DEFAULT_MAX_WAIT,
        help="the longest Retry-After to wait for; a longer one stops with when to re-run "
        f"(default {DEFAULT_MAX_WAIT:g} s)",
    )


def policy_from(args: argparse.Namespace) -> Policy:
    return Policy(
        retries=getattr(args, "retries", DEFAULT_RETRIES),
        backoff=getattr(args, "backoff", DEFAULT_BACKOFF),
        timeout=getattr(args, "timeout", DEFAULT_TIMEOUT),
        pace=getattr(args, "pace", DEFAULT_PACE),
        max_wait=getattr(args, "max_wait", DEFAULT_MAX_WAIT),
    )


def base_url(option: str | None, env: str, default: str) -> str:
    """--base-url, else $<env>, else the source's public server; no trailing slash."""
    chosen = (option or "").strip() or os.environ.get(env, "").strip() or default
    return chosen.rstrip("/")


def cache_root(args: argparse.Namespace, data_dir: Path) -> Path:
    option = getattr(args, "cache_dir", None)
    return Path(option).expanduser() if option else data_dir / "cache"


# --- disks ------------------------------------------------------------------------------


def disk_problem(error: OSError) -> str:
    return {
        errno.EROFS: "it is read-only",
        errno.ENOSPC: "the disk is full",
        errno.EDQUOT: "the disk quota is used up",
    }.get(error.errno or 0, "it is not writable")


@contextlib.contextmanager
def writing_to(folder: Path, partial: Path | None = None) -> Iterator[None]:
    """Turn a read-only/full/unwritable folder into a FetchError that names it."""
    try:
        yield
    except OSError as error:
        if error.errno not in DISK_ERRNOS:
            raise
        kept = ""
        if partial is not None and partial.is_file() and partial.stat().st_size:
            kept = (
                f"; the partial download {partial} ({human_size(partial.stat().st_size)}) is "
                "kept and resumes on the next run"
            )
        raise FetchError(
            f"cannot write to {folder}: {disk_problem(error)} ({error.strerror}); free some "
            f"space or choose another folder with --cache-dir{kept}"
        ) from error


@contextlib.contextmanager
def loading_into(warehouse: Warehouse, downloads: Path) -> Iterator[None]:
    """A full, read-only or unwritable warehouse folder during an ingest: a FetchError that
    names it. The ingest's transaction has already rolled back, so nothing is half-written."""
    try:
        yield
    except OSError as error:
        if error.errno not in DISK_ERRNOS:
            raise
        raise FetchError(
            f"cannot write the warehouse at {warehouse.root}: {disk_problem(error)} "
            f"({error.strerror}); nothing was changed there. The downloads stay in {downloads}: "
            "free some space (or choose another --data-dir) and re-run"
        ) from error


def human_size(size: int | None) -> str:
    if size is None:
        return "size unknown"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, path)


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


# --- what a fetch returns and expects ---------------------------------------------------


@dataclass
class Record:
    """What the cache knows about a complete file (kept as `<name>.json`)."""

    url: str
    size: int
    mtime_ns: int
    etag: str = ""
    last_modified: str = ""
    md5: str = ""
    fetched_at: str = ""


@dataclass
class Downloaded:
    path: Path
    url: str
    size: int
    reused: bool
    seconds: float = 0.0

    def describe(self) -> str:
        if self.reused:
            return f"{self.path.name}: already in the cache ({human_size(self.size)}), not downloaded again"
        rate = self.size / self.seconds if self.seconds > 0 else 0
        return f"{self.path.name}: downloaded {human_size(self.size)} in {self.seconds:.0f} s" + (
            f" ({human_size(int(rate))}/s)" if rate else ""
        )


Check = Callable[[Path, str], None]
"""A source-specific integrity check: (file, its name for messages) -> raise FetchError."""


@dataclass(frozen=True)
class Expected:
    """What a source publishes about a file, when it does: its size and MD5."""

    size: int | None = None
    md5: str | None = None


def record_path(target: Path) -> Path:
    return target.with_name(target.name + ".json")


def verify(
    path: Path, label: str, *, announced: int | None, expected: Expected, check: Check | None
) -> str:
    """Size, MD5 and the source's check; FetchError naming what is wrong. Returns the MD5
    when one was computed."""
    actual = path.stat().st_size
    for size, what in ((announced, "the server announced"), (expected.size, "the source lists")):
        if size is not None and actual != size:
            raise FetchError(f"{label} is truncated or damaged: {actual:,} bytes, {what} {size:,}")
    md5 = ""
    if expected.md5:
        md5 = _md5(path)
        if md5.lower() != expected.md5.lower():
            raise FetchError(f"{label} is damaged: MD5 {md5}, the source lists {expected.md5}")
    if check is not None:
        check(path, label)
    return md5


# --- step 1: the cache ------------------------------------------------------------------


def _recorded_and_unchanged(
    target: Path, record: dict[str, Any] | None, expected: Expected
) -> bool:
    if record is None:
        return False
    stat = target.stat()
    same_file = record.get("size") == stat.st_size and record.get("mtime_ns") == stat.st_mtime_ns
    same_size = expected.size is None or expected.size == stat.st_size
    same_md5 = not expected.md5 or str(record.get("md5", "")).lower() == expected.md5.lower()
    return same_file and same_size and same_md5


def from_cache(
    target: Path, url: str, label: str, *, expected: Expected, check: Check | None
) -> Downloaded | None:
    """The file at `target` when it is complete and still what the source publishes
    (recorded by an earlier fetch, or saved there by hand and passing the checks now);
    None when it must be downloaded."""
    with writing_to(target.parent):
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.is_file():
            return None
        record = _read_json(record_path(target))
        if not _recorded_and_unchanged(target, record, expected):
            # A file placed by hand, or one the source has since revised: check it afresh.
            try:
                md5 = verify(target, label, announced=None, expected=expected, check=check)
            except FetchError as problem:
                log.warning(
                    "%s in the cache is not usable (%s); downloading it again", target, problem
                )
                return None
            stat = target.stat()
            _write_json(
                record_path(target),
                asdict(
                    Record(
                        url=str((record or {}).get("url", "")) or url,
                        size=stat.st_size,
                        mtime_ns=stat.st_mtime_ns,
                        md5=md5,
                        fetched_at=str((record or {}).get("fetched_at", "")),
                    )
                ),
            )
    return Downloaded(target, url, target.stat().st_size, reused=True)


# --- step 2: the transfer ---------------------------------------------------------------


@dataclass(frozen=True)
class Partial:
    """A download in progress: `<name>.part` and its sidecar `<name>.part.json`."""

    path: Path
    meta_path: Path

    @classmethod
    def of(cls, target: Path) -> Partial:
        return cls(
            target.with_name(target.name + ".part"), target.with_name(target.name + ".part.json")
        )

    def meta(self) -> dict[str, Any] | None:
        return _read_json(self.meta_path) if self.path.is_file() else None

    def size(self) -> int:
        return self.path.stat().st_size if self.path.is_file() else 0

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)
        self.meta_path.unlink(missing_ok=True)


@dataclass(frozen=True)
class Answer:
    """How to write an accepted answer: append (206) or start over (200), from where,
    and the file's total size when the server said."""

    mode: str
    offset: int
    total: int | None


COMPLETE = "complete"  # the part already holds the whole file (416 at its end)
RESTART = "restart"  # the server cannot continue the part: start over


def _validator(meta: dict[str, Any]) -> str:
    """The If-Range value: a strong ETag, else Last-Modified, else nothing."""
    etag = str(meta.get("etag") or "")
    if etag and not etag.startswith("W/"):
        return etag
    return str(meta.get("last_modified") or "")


def resume_headers(partial: Partial) -> tuple[int, dict[str, str]]:
    """(offset, headers): the Range of a part left by an earlier attempt, checked against
    the file it started from with If-Range; no Range for a fresh start."""
    meta = partial.meta()
    offset = partial.size() if meta is not None else 0
    headers = {"Accept-Encoding": "identity"}  # byte ranges of the file itself
    if offset and meta is not None:
        headers["Range"] = f"bytes={offset}-"
        if validator := _validator(meta):
            headers["If-Range"] = validator
    return offset, headers


def _content_range(header: str) -> tuple[int, int | None] | None:
    """'bytes 100-199/200' -> (100, 200); total None for '*'."""
    match = re.fullmatch(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*", header or "")
    if not match:
        return None
    return int(match[1]), None if match[2] == "*" else int(match[2])


def accept_answer(
    response: requests.Response,
    partial: Partial,
    offset: int,
    url: str,
    label: str,
    by_hand: ByHand | None,
) -> Answer | str:
    """What to do with the server's answer: an `Answer` to write, COMPLETE, RESTART, or
    a FetchError (a refusal with how to get the file by hand, a 404, a busy server)."""
    meta = partial.meta()
    if response.status_code == 416 and meta is not None:
        return COMPLETE if offset == meta.get("size") else RESTART
    http.raise_for_answer(response, url, by_hand=by_hand, keep_note=KEEP_NOTE if offset else "")
    if response.status_code == 206:
        ranged = _content_range(response.headers.get("Content-Range", ""))
        expected_total = meta.get("size") if meta else None
        if (
            ranged is None
            or ranged[0] != offset
            or (
                ranged[1] is not None and expected_total is not None and ranged[1] != expected_total
            )
        ):
            log.warning("%s: the server's range does not continue the part", label)
            return RESTART
        return Answer("ab", offset, ranged[1])
    if offset:
        log.info("%s: the server sent the whole file again; restarting", label)
    length = response.headers.get("Content-Length")
    return Answer("wb", 0, int(length) if length and length.isdigit() else None)


def progress_bar(total: int | None, initial: int, desc: str) -> tqdm:
    return tqdm(
        total=total,
        initial=initial,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        desc=desc,
        file=sys.stderr,
        disable=None,
        leave=False,
        dynamic_ncols=True,
    )


def write_body(
    response: requests.Response,
    partial: Partial,
    answer: Answer,
    url: str,
    label: str,
    by_hand: ByHand | None,
) -> None:
    """Stream the body into the part. A fresh start is refused before anything is saved
    when its first bytes are a web page (a browser check, a login page)."""
    folder = partial.path.parent
    chunks = response.iter_content(CHUNK_BYTES)
    first = next(chunks, b"")
    if answer.mode == "wb":
        http.reject_web_page(first, url, "the file", by_hand)
        with writing_to(folder):
            _write_json(
                partial.meta_path,
                {
                    "url": url,
                    "size": answer.total,
                    "etag": response.headers.get("ETag", ""),
                    "last_modified": response.headers.get("Last-Modified", ""),
                },
            )
    with (
        writing_to(folder, partial=partial.path),
        partial.path.open(answer.mode) as out,
        progress_bar(answer.total, answer.offset, label) as bar,
    ):
        for chunk in _chain(first, chunks):
            out.write(chunk)
            bar.update(len(chunk))


def _chain(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    yield first
    yield from rest


def after_drop(
    retry: PoliteRetry, url: str, error: Exception, partial: Partial, label: str, timeout: float
) -> PoliteRetry:
    """Back off after a connection that dropped or stalled mid-file, or stop (keeping the
    part for the next run) when the retries are used up."""
    try:
        retry = retry.increment(method="GET", url=url, error=ProtocolError(str(error)))
    except MaxRetryError as exhausted:
        kept = (
            f"the partial download {partial.path} ({human_size(partial.size())}) is kept and "
            "resumes on the next run"
            if partial.size()
            else "nothing arrived"
        )
        raise FetchError(
            f"{url}: the connection kept dropping or stalling ({http.reason(error)}; "
            f"--timeout {timeout:g} s): {kept}; re-run later or with a longer --timeout"
        ) from exhausted
    log.warning(
        "%s: connection dropped after %s (%s); resuming",
        label,
        human_size(partial.size()),
        http.reason(error),
    )
    retry.sleep()
    return retry


def _restart(partial: Partial, restarts: int, url: str) -> int:
    """Drop a part the server cannot continue; at most MAX_RESTARTS times a fetch."""
    if restarts >= MAX_RESTARTS:
        raise FetchError(f"{url}: the server does not serve byte ranges consistently; re-run later")
    partial.discard()
    return restarts + 1


def transfer(
    url: str,
    partial: Partial,
    *,
    session: requests.Session,
    policy: Policy,
    label: str,
    by_hand: ByHand | None = None,
) -> int | None:
    """Download into the part until it holds the whole file; the size the server
    announced (None when it did not)."""
    retry = policy.retry()  # the same back-off for connections that drop mid-file
    restarts = 0
    while True:
        offset, headers = resume_headers(partial)
        response = http.get(
            session,
            url,
            policy,
            headers=headers,
            stream=True,
            keep_note=KEEP_NOTE if offset else "",
        )
        with response:
            answer = accept_answer(response, partial, offset, url, label, by_hand)
            if answer == COMPLETE:
                return offset
            if answer == RESTART:
                restarts = _restart(partial, restarts, url)
                continue
            assert isinstance(answer, Answer)
            try:
                write_body(response, partial, answer, url, label, by_hand)
            except DROPPED as error:
                retry = after_drop(retry, url, error, partial, label, policy.timeout)
                continue
        return answer.total


# --- steps 3 and 4: checks, then the file -----------------------------------------------


def verify_download(
    partial: Partial,
    url: str,
    label: str,
    *,
    announced: int | None,
    expected: Expected,
    check: Check | None,
) -> str:
    """`verify` the part; a part that fails is removed, so nothing damaged is loaded or kept."""
    try:
        return verify(partial.path, label, announced=announced, expected=expected, check=check)
    except FetchError as problem:
        partial.discard()
        raise FetchError(
            f"{problem} (from {url}); it was removed from the cache and nothing was loaded — "
            "re-run to download it again"
        ) from problem


def promote(partial: Partial, target: Path, url: str, md5: str, started: float) -> Downloaded:
    """The verified part becomes the file, with its record."""
    meta = _read_json(partial.meta_path) or {}
    with writing_to(target.parent):
        os.replace(partial.path, target)
        stat = target.stat()
        _write_json(
            record_path(target),
            asdict(
                Record(
                    url=url,
                    size=stat.st_size,
                    mtime_ns=stat.st_mtime_ns,
                    etag=str(meta.get("etag") or ""),
                    last_modified=str(meta.get("last_modified") or ""),
                    md5=md5,
                    fetched_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
                )
            ),
        )
        partial.meta_path.unlink(missing_ok=True)
    return Downloaded(target, url, stat.st_size, reused=False, seconds=time.monotonic() - started)


def fetch_file(
    url: str,
    target: Path,
    *,
    session: requests.Session,
    policy: Policy,
    expected_size: int | None = None,
    expected_md5: str | None = None,
    check: Check | None = None,
    label: str | None = None,
    by_hand: ByHand | None = None,
) -> Downloaded:
    """`target`, from the cache when it holds the verified file, else downloaded from
    `url` (resuming a `.part` left by an earlier run) and verified. `by_hand` says how a
    user gets the file when the server refuses a script."""
    label = label or target.name
    by_hand = by_hand or ByHand(what=target.name, page=url, save_as=str(target))
    expected = Expected(expected_size, expected_md5)
    if (cached := from_cache(target, url, label, expected=expected, check=check)) is not None:
        return cached
    started = time.monotonic()
    partial = Partial.of(target)
    announced = transfer(url, partial, session=session, policy=policy, label=label, by_hand=by_hand)
    md5 = verify_download(partial, url, label, announced=announced, expected=expected, check=check)
    return promote(partial, target, url, md5, started)


# --- knowing before downloading ---------------------------------------------------------


@dataclass(frozen=True)
class SourceCheck:
    """What a source would download, as `critmin fetch all --check` prints it."""

    source: str
    url: str
    release: str
    size: int | None
    cached: str
    answered: bool
    detail: str


def cached_state(target: Path) -> str:
    """'yes' for a verified file in the cache, 'yes, not yet checked' for one saved by
    hand, 'partial (N MB)' for an interrupted download, else 'no'."""
    if target.is_file():
        return "yes" if record_path(target).is_file() else "yes, not yet checked"
    partial = Partial.of(target)
    if partial.path.is_file():
        return f"partial ({human_size(partial.size())})"
    return "no"


def check_file(
    session: requests.Session,
    source: str,
    url: str,
    release: str,
    target: Path,
    policy: Policy,
    *,
    size: int | None = None,
) -> SourceCheck:
    """Ask the server about one file (HEAD, else a one-byte ranged GET); nothing is
    downloaded. `size` is what the source lists, used when the server does not say."""
    answer = http.probe(session, url, policy)
    return SourceCheck(
        source,
        url,
        release,
        answer.size if answer.size is not None else size,
        cached_state(target),
        answer.answered,
        answer.detail,
    )
