"""The download core every fetcher uses: one HTTP session, one way to fetch a file.

- HTTP: a `requests` session whose adapter retries connection errors, 429 and 5xx
  answers with exponential back-off honouring Retry-After (urllib3 `Retry`); a 404 is
  not retried. Proxies come from the usual environment (`HTTPS_PROXY`, `HTTP_PROXY`,
  `NO_PROXY`), which requests reads by itself.
- Resume: a file is written as `<name>.part` beside a small sidecar
  `<name>.part.json` (URL, expected size, ETag / Last-Modified). A later attempt asks
  for the rest with `Range` and `If-Range`; a 206 answer is appended, a 200 answer (the
  file changed, or the server ignores ranges) restarts the file from zero. A connection
  that drops mid-file is resumed in the same run, with the same back-off.
- Checks before anything is ingested: the size against Content-Length (and the size and
  MD5 a source publishes), then a source-specific check (zip CRC test, CSV header). A
  file that fails is removed from the cache and the fetch stops with a one-line reason.
- Cache: a complete, verified file is kept as `<name>` with a record `<name>.json`
  (URL, size, validators, when); a later run reuses it without downloading.
- Disks: a read-only, unwritable or full folder (EROFS, EACCES, ENOSPC) stops with a
  message naming the folder; a partial download stays as `.part` for a later resume.
- Progress: a tqdm bar on stderr with bytes, rate and time left (hidden when stderr is
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
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from tqdm import tqdm
from urllib3.exceptions import MaxRetryError, ProtocolError
from urllib3.util import Retry

from critmin.warehouse import Warehouse

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)
DEFAULT_RETRIES = 5
DEFAULT_BACKOFF = 2.0
DEFAULT_TIMEOUT = 60.0
BACKOFF_MAX = 120.0
CHUNK_BYTES = 1 << 16  # what a dropped connection can cost: the chunk in flight
MAX_RESTARTS = 3
USER_AGENT = "critmin (public data fetch; https://github.com/critmin)"
# Errors of the folder being written, not of the download.
DISK_ERRNOS = {errno.EROFS, errno.ENOSPC, errno.EACCES, errno.EPERM, errno.EDQUOT}


class FetchError(ValueError):
    """A download that cannot complete; the message is one line and says what to do."""


class NotFound(FetchError):
    """The server has no such file (HTTP 404)."""

    def __init__(self, message: str, url: str):
        super().__init__(message)
        self.url = url


# --- the HTTP session -------------------------------------------------------------------


@dataclass(frozen=True)
class Policy:
    """How hard to try: retries and back-off (seconds, doubling each retry), timeout."""

    retries: int = DEFAULT_RETRIES
    backoff: float = DEFAULT_BACKOFF
    timeout: float = DEFAULT_TIMEOUT

    def retry(self) -> Retry:
        return Retry(
            total=self.retries,
            connect=self.retries,
            read=self.retries,
            status=self.retries,
            backoff_factor=self.backoff,
            backoff_max=BACKOFF_MAX,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=frozenset({"GET", "HEAD"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )


def make_session(
    policy: Policy, *, user_agent: str = USER_AGENT, headers: dict[str, str] | None = None
) -> requests.Session:
    """A session that retries transient failures with back-off; proxies from the env."""
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=policy.retry())
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = user_agent
    session.headers.update(headers or {})
    return session


def attempts(response: requests.Response) -> int:
    """How many requests the adapter made for this answer (1 + its retries)."""
    retries = getattr(response.raw, "retries", None)
    history = getattr(retries, "history", ()) or ()
    return 1 + len(history)


def reason(error: Exception) -> str:
    """A short reason from requests' long exception texts."""
    text = str(error)
    for marker in (
        "Connection refused",
        "Name or service not known",
        "Temporary failure in name resolution",
        "timed out",
        "Connection reset",
        "Remote end closed connection",
        "Connection broken",
        "too many 429",
        "too many 5",
    ):
        if marker.lower() in text.lower():
            return marker
    return text.splitlines()[0][:160] if text else type(error).__name__


def get(
    session: requests.Session,
    url: str,
    policy: Policy,
    *,
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    stream: bool = False,
    keep_note: str = "",
) -> requests.Response:
    """GET with the session's retries; FetchError in one line on network failure.

    The answer may still be an HTTP error (after retries): see `raise_for_answer`.
    """
    try:
        return session.get(
            url, headers=headers, params=params, stream=stream, timeout=policy.timeout
        )
    except requests.exceptions.RetryError as error:
        raise FetchError(
            f"{url}: still failing after retries ({reason(error)}){keep_note}"
        ) from error
    except requests.exceptions.ConnectionError as error:
        host = urlsplit(url).netloc
        raise FetchError(
            f"cannot reach {host} ({reason(error)}) for {url}; check the network, the base URL "
            f"(--base-url) or the HTTPS_PROXY setting, then re-run{keep_note}"
        ) from error
    except requests.exceptions.Timeout as error:
        raise FetchError(
            f"{url}: no answer within {policy.timeout:g} s; re-run later{keep_note}"
        ) from error


def raise_for_answer(
    response: requests.Response, url: str, *, save_as: Path | None = None, keep_note: str = ""
) -> None:
    """FetchError (NotFound for 404) with the fix, for any answer that is not 200/206."""
    status = response.status_code
    if status in (200, 206):
        return
    tries = attempts(response)
    if status == 404:
        raise NotFound(f"{url}: not found (HTTP 404)", url)
    if status in (401, 403):
        by_hand = (
            f"; open it in a browser, save it as {save_as} and re-run (a file already in the "
            "cache is checked and used)"
            if save_as
            else ""
        )
        raise FetchError(f"{url}: the server refused the download (HTTP {status}){by_hand}")
    if status in RETRY_STATUSES:
        raise FetchError(
            f"{url}: HTTP {status} after {tries} attempt(s): the server is busy or down; "
            f"re-run later{keep_note}"
        )
    raise FetchError(f"{url}: unexpected HTTP {status}{keep_note}")


def get_json(session: requests.Session, url: str, policy: Policy, **kwargs: Any) -> Any:
    """A small JSON document (a catalogue entry): parsed, or FetchError."""
    response = get(session, url, policy, **kwargs)
    with response:
        raise_for_answer(response, url)
        try:
            return response.json()
        except ValueError as error:
            raise FetchError(f"{url}: the answer is not JSON") from error


def get_text(session: requests.Session, url: str, policy: Policy, **kwargs: Any) -> str:
    """A small text document (a listing page): decoded, or FetchError."""
    response = get(session, url, policy, **kwargs)
    with response:
        raise_for_answer(response, url)
        return response.text


# --- command-line options every fetcher shares -------------------------------------------


def add_download_arguments(
    parser: argparse.ArgumentParser, *, base_env: str | None, default_base: str | None
) -> None:
    """--cache-dir, --retries, --backoff, --timeout (and --base-url when given a default)."""
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


def policy_from(args: argparse.Namespace) -> Policy:
    return Policy(
        retries=getattr(args, "retries", DEFAULT_RETRIES),
        backoff=getattr(args, "backoff", DEFAULT_BACKOFF),
        timeout=getattr(args, "timeout", DEFAULT_TIMEOUT),
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


# --- fetching one file ------------------------------------------------------------------


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


def _record_path(target: Path) -> Path:
    return target.with_name(target.name + ".json")


def _part_paths(target: Path) -> tuple[Path, Path]:
    return target.with_name(target.name + ".part"), target.with_name(target.name + ".part.json")


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


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


def _verify(
    path: Path,
    label: str,
    *,
    size: int | None,
    expected_size: int | None,
    expected_md5: str | None,
    check: Check | None,
) -> str:
    """Size, MD5 and the source's check; FetchError naming what is wrong. Returns the MD5
    when one was computed."""
    actual = path.stat().st_size
    for expected, what in ((size, "the server announced"), (expected_size, "the source lists")):
        if expected is not None and actual != expected:
            raise FetchError(
                f"{label} is truncated or damaged: {actual:,} bytes, {what} {expected:,}"
            )
    md5 = ""
    if expected_md5:
        md5 = _md5(path)
        if md5.lower() != expected_md5.lower():
            raise FetchError(f"{label} is damaged: MD5 {md5}, the source lists {expected_md5}")
    if check is not None:
        check(path, label)
    return md5


def _reusable(
    target: Path,
    label: str,
    *,
    expected_size: int | None,
    expected_md5: str | None,
    check: Check | None,
) -> bool:
    """A complete file in the cache that is still what the source publishes."""
    stat = target.stat()
    record = _read_json(_record_path(target))
    if record is not None:
        same_file = (
            record.get("size") == stat.st_size and record.get("mtime_ns") == stat.st_mtime_ns
        )
        same_size = expected_size is None or expected_size == stat.st_size
        same_md5 = not expected_md5 or str(record.get("md5", "")).lower() == expected_md5.lower()
        if same_file and same_size and same_md5:
            return True
    # A file placed by hand, or one the source has since revised: check it afresh.
    try:
        md5 = _verify(
            target,
            label,
            size=None,
            expected_size=expected_size,
            expected_md5=expected_md5,
            check=check,
        )
    except FetchError as problem:
        log.warning("%s in the cache is not usable (%s); downloading it again", target, problem)
        return False
    _write_json(
        _record_path(target),
        asdict(
            Record(
                url=str(record.get("url", "")) if record else "",
                size=stat.st_size,
                mtime_ns=stat.st_mtime_ns,
                md5=md5,
                fetched_at=str(record.get("fetched_at", "")) if record else "",
            )
        ),
    )
    return True


def _content_range(header: str) -> tuple[int, int | None] | None:
    """'bytes 100-199/200' -> (100, 200); total None for '*'."""
    match = re.fullmatch(r"\s*bytes\s+(\d+)-\d+/(\d+|\*)\s*", header or "")
    if not match:
        return None
    return int(match[1]), None if match[2] == "*" else int(match[2])


def _validator(meta: dict[str, Any]) -> str:
    """The If-Range value: a strong ETag, else Last-Modified, else nothing."""
    etag = str(meta.get("etag") or "")
    if etag and not etag.startswith("W/"):
        return etag
    return str(meta.get("last_modified") or "")


def _restart(part: Path, meta_path: Path, restarts: int, url: str) -> int:
    """Drop a `.part` the server cannot continue; at most MAX_RESTARTS times a fetch."""
    if restarts >= MAX_RESTARTS:
        raise FetchError(f"{url}: the server does not serve byte ranges consistently; re-run later")
    part.unlink(missing_ok=True)
    meta_path.unlink(missing_ok=True)
    return restarts + 1


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
) -> Downloaded:
    """Download `url` to `target` (resuming a `.part` left by an earlier run), verify it,
    and return it; a verified file already at `target` is reused."""
    label = label or target.name
    folder = target.parent
    part, meta_path = _part_paths(target)
    with writing_to(folder):
        folder.mkdir(parents=True, exist_ok=True)
        if target.is_file() and _reusable(
            target, label, expected_size=expected_size, expected_md5=expected_md5, check=check
        ):
            return Downloaded(target, url, target.stat().st_size, reused=True)
    started = time.monotonic()
    keep_note = "; the partial download is kept and resumes on the next run"
    resume = policy.retry()  # the same back-off for connections that drop mid-file
    total: int | None = None
    restarts = 0
    while True:
        meta = _read_json(meta_path) if part.is_file() else None
        offset = part.stat().st_size if meta is not None and part.is_file() else 0
        headers = {"Accept-Encoding": "identity"}  # byte ranges of the file itself
        if offset and meta is not None:
            headers["Range"] = f"bytes={offset}-"
            if validator := _validator(meta):
                headers["If-Range"] = validator
        response = get(
            session,
            url,
            policy,
            headers=headers,
            stream=True,
            keep_note=keep_note if offset else "",
        )
        with response:
            if response.status_code == 416 and meta is not None:
                if offset == meta.get("size"):
                    total = offset  # the part was already complete
                    break
                restarts = _restart(part, meta_path, restarts, url)
                continue
            raise_for_answer(response, url, save_as=target, keep_note=keep_note if offset else "")
            if response.status_code == 206:
                ranged = _content_range(response.headers.get("Content-Range", ""))
                expected_total = meta.get("size") if meta else None
                if (
                    ranged is None
                    or ranged[0] != offset
                    or (
                        ranged[1] is not None
                        and expected_total is not None
                        and ranged[1] != expected_total
                    )
                ):
                    log.warning("%s: the server's range does not continue the part", label)
                    restarts = _restart(part, meta_path, restarts, url)
                    continue
                total = ranged[1]
                mode = "ab"
            else:  # 200: the whole file (first attempt, or the file changed upstream)
                if offset:
                    log.info("%s: the server sent the whole file again; restarting", label)
                offset = 0
                length = response.headers.get("Content-Length")
                total = int(length) if length and length.isdigit() else None
                mode = "wb"
                with writing_to(folder):
                    _write_json(
                        meta_path,
                        {
                            "url": url,
                            "size": total,
                            "etag": response.headers.get("ETag", ""),
                            "last_modified": response.headers.get("Last-Modified", ""),
                        },
                    )
            written = offset
            try:
                with (
                    writing_to(folder, partial=part),
                    part.open(mode) as out,
                    progress_bar(total, offset, label) as bar,
                ):
                    for chunk in response.iter_content(CHUNK_BYTES):
                        out.write(chunk)
                        written += len(chunk)
                        bar.update(len(chunk))
            except (
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ConnectionError,
                requests.exceptions.Timeout,
            ) as error:
                try:
                    resume = resume.increment(
                        method="GET", url=url, error=ProtocolError(str(error))
                    )
                except MaxRetryError as exhausted:
                    raise FetchError(
                        f"{url}: the connection kept dropping ({reason(error)}) after "
                        f"{human_size(written)}; the partial download {part} is kept and "
                        "resumes on the next run"
                    ) from exhausted
                log.warning(
                    "%s: connection dropped after %s (%s); resuming",
                    label,
                    human_size(written),
                    reason(error),
                )
                resume.sleep()
                continue
        break
    try:
        md5 = _verify(
            part,
            label,
            size=total,
            expected_size=expected_size,
            expected_md5=expected_md5,
            check=check,
        )
    except FetchError as problem:
        part.unlink(missing_ok=True)
        meta_path.unlink(missing_ok=True)
        raise FetchError(
            f"{problem} (from {url}); it was removed from the cache and nothing was loaded — "
            "re-run to download it again"
        ) from problem
    meta = _read_json(meta_path) or {}
    with writing_to(folder):
        os.replace(part, target)
        stat = target.stat()
        _write_json(
            _record_path(target),
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
        meta_path.unlink(missing_ok=True)
    return Downloaded(target, url, stat.st_size, reused=False, seconds=time.monotonic() - started)
