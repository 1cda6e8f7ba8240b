"""The download core (`critmin.fetch.download`) against a local server on 127.0.0.1:
resume after a dropped connection (byte-identical), `.part` files left by an earlier
run, a 200 answer to a Range request, a file changed upstream, 503 bursts, 404s,
truncated and corrupt files, read-only and full folders, the cache and proxies.
No test touches the internet."""

from __future__ import annotations

import errno
import hashlib
import json
import pathlib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fetch_server import (
    Drop,
    FakeClock,
    FileServer,
    IgnoreRange,
    Stall,
    Status,
    cloudflare_challenge,
    running,
)

from critmin.fetch import download, http
from critmin.fetch.http import FetchError, NotFound, Policy

FAST = Policy(retries=3, backoff=0.0, timeout=5.0)
BODY = hashlib.sha256(b"seed").digest() * 40_000  # 1.28 MB: more than one chunk


@pytest.fixture
def server() -> Iterator[FileServer]:
    yield from running(FileServer())


@pytest.fixture(autouse=True)
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    return FakeClock().install(monkeypatch)


def fetch(server: FileServer, path: str, target: Path, policy: Policy = FAST, **kw: Any):
    return download.fetch_file(
        server.url + path,
        target,
        session=http.make_session(policy),
        policy=policy,
        **kw,
    )


def test_download_then_reuse_from_the_cache(server: FileServer, tmp_path: Path) -> None:
    server.serve("/files/data.bin", BODY)
    target = tmp_path / "cache" / "data.bin"
    got = fetch(server, "/files/data.bin", target)
    assert not got.reused and target.read_bytes() == BODY
    record = json.loads((tmp_path / "cache" / "data.bin.json").read_text())
    assert (
        record["size"] == len(BODY) and record["etag"] == server.resources["/files/data.bin"].etag
    )
    assert not (tmp_path / "cache" / "data.bin.part").exists()
    again = fetch(server, "/files/data.bin", target)
    assert again.reused and len(server.hits) == 1  # nothing downloaded twice
    assert "not downloaded again" in again.describe()


def test_connection_dropped_mid_file_is_resumed_byte_identical(
    server: FileServer, tmp_path: Path
) -> None:
    server.serve("/files/data.bin", BODY)
    server.fault("/files/data.bin", Drop(after=300_000), Drop(after=200_000))
    target = tmp_path / "data.bin"
    fetch(server, "/files/data.bin", target)
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(BODY).digest()
    first, second, third = server.hits
    assert "Range" not in first.headers
    resumed_at = int(second.headers["Range"].removeprefix("bytes=").rstrip("-"))
    assert 200_000 < resumed_at <= 300_000  # what reached the disk before the drop
    assert second.headers["If-Range"] == server.resources["/files/data.bin"].etag
    again_at = int(third.headers["Range"].removeprefix("bytes=").rstrip("-"))
    assert resumed_at < again_at <= resumed_at + 200_000


def test_part_left_by_an_earlier_run_resumes_next_run(server: FileServer, tmp_path: Path) -> None:
    server.serve("/files/data.bin", BODY)
    server.fault("/files/data.bin", Drop(after=400_000))
    target = tmp_path / "data.bin"
    with pytest.raises(FetchError, match="kept and resumes on the next run"):
        fetch(server, "/files/data.bin", target, Policy(retries=0, backoff=0, timeout=5))
    part = tmp_path / "data.bin.part"
    kept = part.stat().st_size
    assert 300_000 < kept <= 400_000 and part.read_bytes() == BODY[:kept]
    sidecar = json.loads((tmp_path / "data.bin.part.json").read_text())
    assert sidecar["size"] == len(BODY) and sidecar["etag"]
    fetch(server, "/files/data.bin", target)
    assert target.read_bytes() == BODY and not part.exists()
    assert server.hits[-1].headers["Range"] == f"bytes={kept}-"


def test_200_answer_to_a_range_request_restarts_cleanly(server: FileServer, tmp_path: Path) -> None:
    server.serve("/files/data.bin", BODY)
    server.fault("/files/data.bin", Drop(after=250_000), IgnoreRange())
    target = tmp_path / "data.bin"
    fetch(server, "/files/data.bin", target)
    assert target.read_bytes() == BODY  # not the first 250 kB twice


def test_file_changed_upstream_is_downloaded_whole(server: FileServer, tmp_path: Path) -> None:
    server.serve("/files/data.bin", BODY)
    server.fault("/files/data.bin", Drop(after=250_000))
    target = tmp_path / "data.bin"
    with pytest.raises(FetchError):
        fetch(server, "/files/data.bin", target, Policy(retries=0, backoff=0, timeout=5))
    revised = BODY[::-1]
    server.serve("/files/data.bin", revised)  # a new ETag: If-Range no longer matches
    fetch(server, "/files/data.bin", target)
    assert target.read_bytes() == revised


def test_burst_of_503_is_retried(server: FileServer, tmp_path: Path) -> None:
    server.serve("/files/data.bin", BODY)
    server.fault("/files/data.bin", *[Status(503, (("Retry-After", "0"),))] * 2)
    fetch(server, "/files/data.bin", tmp_path / "data.bin")
    assert len(server.hits) == 3 and (tmp_path / "data.bin").read_bytes() == BODY


def test_lasting_503_fails_in_one_line(server: FileServer, tmp_path: Path) -> None:
    server.serve("/files/data.bin", BODY)
    server.fault("/files/data.bin", *[Status(503, (("Retry-After", "0"),))] * 10)
    with pytest.raises(FetchError) as failure:
        fetch(server, "/files/data.bin", tmp_path / "data.bin")
    message = str(failure.value)
    assert "HTTP 503 after 4 attempt(s)" in message and "re-run later" in message
    assert len(message.splitlines()) == 1
    assert len(server.hits) == 4 and not (tmp_path / "data.bin").exists()


def test_404_is_not_retried(server: FileServer, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="not found"):
        fetch(server, "/files/missing.bin", tmp_path / "missing.bin")
    assert len(server.hits) == 1


def test_closed_port_says_what_to_check(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    policy = Policy(retries=1, backoff=0, timeout=2)
    with pytest.raises(FetchError, match="cannot reach 127.0.0.1") as failure:
        download.fetch_file(
            f"http://127.0.0.1:{port}/x.zip",
            tmp_path / "x.zip",
            session=http.make_session(policy),
            policy=policy,
        )
    assert "HTTPS_PROXY" in str(failure.value) and "--base-url" in str(failure.value)


def test_size_short_of_what_the_source_lists_is_rejected(
    server: FileServer, tmp_path: Path
) -> None:
    server.serve("/files/data.bin", BODY[:-10])
    target = tmp_path / "data.bin"
    with pytest.raises(FetchError, match="truncated or damaged") as failure:
        fetch(server, "/files/data.bin", target, expected_size=len(BODY))
    assert "removed from the cache" in str(failure.value)
    assert not target.exists() and not (tmp_path / "data.bin.part").exists()


def test_md5_mismatch_is_rejected(server: FileServer, tmp_path: Path) -> None:
    server.serve("/files/data.bin", BODY)
    with pytest.raises(FetchError, match="MD5"):
        fetch(server, "/files/data.bin", tmp_path / "data.bin", expected_md5="0" * 32)


def _zip_check(path: Path, label: str) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except zipfile.BadZipFile as error:
        raise FetchError(f"{label} is not a complete zip archive ({error})") from error
    if bad:
        raise FetchError(f"{label} is damaged: {bad} fails its CRC check")


def test_source_check_rejects_a_corrupt_archive(server: FileServer, tmp_path: Path) -> None:
    archive = tmp_path / "good.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as handle:
        handle.writestr("data.csv", "a,b\n" + "1,2\n" * 1000)
    data = bytearray(archive.read_bytes())
    data[200] ^= 0xFF  # one flipped byte inside the stored member
    server.serve("/files/release.zip", bytes(data))
    with pytest.raises(FetchError, match="fails its CRC check"):
        fetch(server, "/files/release.zip", tmp_path / "cache" / "release.zip", check=_zip_check)
    assert list((tmp_path / "cache").iterdir()) == []


def test_cached_file_that_fails_its_check_is_downloaded_again(
    server: FileServer, tmp_path: Path
) -> None:
    archive = tmp_path / "src.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("data.csv", "a,b\n1,2\n")
    server.serve("/files/release.zip", archive.read_bytes())
    target = tmp_path / "cache" / "release.zip"
    target.parent.mkdir()
    target.write_bytes(b"PK\x03\x04 not really a zip")  # placed by hand, no record
    got = fetch(server, "/files/release.zip", target, check=_zip_check)
    assert not got.reused and target.read_bytes() == archive.read_bytes()


def test_file_placed_by_hand_is_checked_and_used(server: FileServer, tmp_path: Path) -> None:
    target = tmp_path / "cache" / "data.bin"
    target.parent.mkdir()
    target.write_bytes(BODY)
    got = fetch(
        server,
        "/files/refused.bin",
        target,
        expected_md5=hashlib.md5(BODY, usedforsecurity=False).hexdigest(),
    )
    assert got.reused and server.hits == []


def test_refused_download_says_where_to_save_it_by_hand(server: FileServer, tmp_path: Path) -> None:
    server.serve("/files/data.bin", BODY)
    server.fault("/files/data.bin", Status(403))
    target = tmp_path / "cache" / "data.bin"
    with pytest.raises(FetchError, match="refused the request") as failure:
        fetch(server, "/files/data.bin", target)
    message = str(failure.value)
    assert f"open {server.url}/files/data.bin in a browser, save data.bin as {target}" in message
    assert len(server.hits) == 1  # a 403 without Retry-After is not asked again
    assert not target.exists() and not (tmp_path / "cache" / "data.bin.part").exists()


class _Full:
    """A file that takes `after` bytes, then fails like a full disk."""

    def __init__(self, handle: Any, code: int, after: int):
        self.handle, self.code, self.left = handle, code, after

    def write(self, data: bytes) -> int:
        if len(data) > self.left:
            raise OSError(self.code, "No space left on device")
        self.left -= len(data)
        return int(self.handle.write(data))

    def __enter__(self) -> _Full:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()


def _failing_open(folder: Path, code: int, after: int | None = None):
    """Path.open that fails with `code` for files under `folder` (at once, or once
    `after` bytes were written): a read-only or full disk, even for root."""
    real_open = pathlib.Path.open

    def fake_open(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, mode, *args, **kwargs)
        if folder not in self.parents or "r" in mode:
            return handle
        if after is None:
            handle.close()
            raise OSError(code, "simulated: " + errno.errorcode[code], str(self))
        return _Full(handle, code, after)

    return fake_open


def test_read_only_cache_folder_is_named(
    server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.serve("/files/data.bin", BODY)
    folder = tmp_path / "cache"
    folder.mkdir()
    monkeypatch.setattr(pathlib.Path, "open", _failing_open(folder, errno.EROFS))
    with pytest.raises(FetchError) as failure:
        fetch(server, "/files/data.bin", folder / "data.bin")
    message = str(failure.value)
    assert f"cannot write to {folder}" in message and "read-only" in message
    assert not (folder / "data.bin").exists()


def test_full_disk_keeps_the_part_for_a_later_resume(
    server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.serve("/files/data.bin", BODY)
    folder = tmp_path / "cache"
    folder.mkdir()
    with monkeypatch.context() as patch:
        patch.setattr(pathlib.Path, "open", _failing_open(folder, errno.ENOSPC, after=600_000))
        with pytest.raises(FetchError) as failure:
            fetch(server, "/files/data.bin", folder / "data.bin")
    message = str(failure.value)
    assert "the disk is full" in message and "kept and resumes on the next run" in message
    assert not (folder / "data.bin").exists()
    assert 0 < (folder / "data.bin.part").stat().st_size <= 600_000
    fetch(server, "/files/data.bin", folder / "data.bin")  # space freed: resumes
    assert (folder / "data.bin").read_bytes() == BODY
    assert server.hits[-1].headers["Range"].startswith("bytes=")


def test_proxy_from_the_environment_is_used(
    server: FileServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.serve("/files/data.bin", BODY)
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", server.url)
    policy = Policy(retries=0, backoff=0, timeout=5)
    download.fetch_file(
        "http://data.example.invalid/files/data.bin",
        tmp_path / "data.bin",
        session=http.make_session(policy),
        policy=policy,
    )
    assert (tmp_path / "data.bin").read_bytes() == BODY
    assert server.hits[0].target == "http://data.example.invalid/files/data.bin"


def test_base_url_option_then_environment_then_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CRITMIN_TEST_BASE", raising=False)
    assert download.base_url(None, "CRITMIN_TEST_BASE", "https://a.example/") == "https://a.example"
    monkeypatch.setenv("CRITMIN_TEST_BASE", "http://mirror.example/x/")
    assert download.base_url(None, "CRITMIN_TEST_BASE", "https://a") == "http://mirror.example/x"
    assert download.base_url("http://o.example", "CRITMIN_TEST_BASE", "https://a") == (
        "http://o.example"
    )


# --- servers as they behave: rate limits, slow answers, browser checks -----------------


def test_429_with_retry_after_waits_what_the_server_asks(
    server: FileServer, tmp_path: Path, clock: FakeClock
) -> None:
    server.serve("/files/data.bin", BODY)
    server.fault("/files/data.bin", Status(429, (("Retry-After", "7"),)))
    fetch(server, "/files/data.bin", tmp_path / "data.bin")
    assert len(server.hits) == 2 and clock.sleeps == [7.0]
    assert (tmp_path / "data.bin").read_bytes() == BODY


def test_a_retry_after_longer_than_max_wait_stops_with_when_to_re_run(
    server: FileServer, tmp_path: Path, clock: FakeClock
) -> None:
    server.serve("/files/data.bin", BODY)
    server.fault("/files/data.bin", Status(429, (("Retry-After", "7200"),)))
    policy = Policy(retries=3, backoff=0, timeout=5, max_wait=600)
    with pytest.raises(FetchError, match="asks to wait 2.0 h") as failure:
        fetch(server, "/files/data.bin", tmp_path / "data.bin", policy)
    assert "longer than --max-wait 600 s: re-run after" in str(failure.value)
    assert clock.sleeps == [] and len(server.hits) == 1


def test_a_stalled_server_times_out_with_a_clear_message(
    server: FileServer, tmp_path: Path
) -> None:
    server.serve("/files/data.bin", BODY)
    server.fault("/files/data.bin", *[Stall(0)] * 3)
    policy = Policy(retries=1, backoff=0, timeout=0.5)
    with pytest.raises(FetchError) as failure:
        fetch(server, "/files/data.bin", tmp_path / "data.bin", policy)
    message = str(failure.value)
    assert "kept dropping or stalling (timed out; --timeout 0.5 s): nothing arrived" in message
    assert "re-run later or with a longer --timeout" in message
    assert len(server.hits) == 2 and not (tmp_path / "data.bin").exists()


def test_a_stall_mid_file_is_resumed_where_it_stopped(server: FileServer, tmp_path: Path) -> None:
    server.serve("/files/data.bin", BODY)
    server.fault("/files/data.bin", Stall(after=400_000))
    policy = Policy(retries=2, backoff=0, timeout=0.5)
    fetch(server, "/files/data.bin", tmp_path / "data.bin", policy)
    assert (tmp_path / "data.bin").read_bytes() == BODY
    resumed_at = int(server.hits[1].headers["Range"].removeprefix("bytes=").rstrip("-"))
    assert 300_000 < resumed_at <= 400_000


def test_a_challenge_page_is_refused_not_retried_and_never_saved(
    server: FileServer, tmp_path: Path
) -> None:
    server.serve("/files/release.zip", BODY)
    server.fault("/files/release.zip", cloudflare_challenge())
    target = tmp_path / "cache" / "release.zip"
    by_hand = http.ByHand(
        what="release.zip",
        page="https://example.org/downloads",
        save_as=str(target),
        then="critmin fetch x",
    )
    with pytest.raises(http.Refused) as failure:
        download.fetch_file(
            server.url + "/files/release.zip",
            target,
            session=http.make_session(FAST),
            policy=FAST,
            by_hand=by_hand,
        )
    message = str(failure.value)
    assert "a browser check (Cloudflare) that a script cannot pass" in message
    assert (
        f"open https://example.org/downloads in a browser, save release.zip as {target}" in message
    )
    assert "then run `critmin fetch x`" in message
    assert len(server.hits) == 1 and list((tmp_path / "cache").iterdir()) == []


def test_a_challenge_served_with_200_is_still_refused(server: FileServer, tmp_path: Path) -> None:
    server.serve("/files/release.zip", cloudflare_challenge().body)
    with pytest.raises(http.Refused, match="browser check"):
        fetch(server, "/files/release.zip", tmp_path / "release.zip")
    assert list(tmp_path.iterdir()) == []


def test_probe_reads_the_size_without_downloading(server: FileServer) -> None:
    server.serve("/files/data.bin", BODY)
    answer = http.probe(http.make_session(FAST), server.url + "/files/data.bin", FAST)
    assert answer.answered and answer.size == len(BODY)
    assert [h.method for h in server.hits] == ["HEAD"]
    missing = http.probe(http.make_session(FAST), server.url + "/files/missing.bin", FAST)
    assert not missing.answered and missing.detail == "HTTP 404: no such file"


def test_steps_of_a_resume(tmp_path: Path) -> None:
    """resume_headers: no Range for a fresh start; a part with its sidecar asks for the
    rest, checked against its ETag."""
    partial = download.Partial.of(tmp_path / "data.bin")
    assert download.resume_headers(partial) == (0, {"Accept-Encoding": "identity"})
    partial.path.write_bytes(b"x" * 10)
    partial.meta_path.write_text(json.dumps({"size": 20, "etag": '"abc"'}))
    offset, headers = download.resume_headers(partial)
    assert offset == 10 and headers["Range"] == "bytes=10-" and headers["If-Range"] == '"abc"'
    partial.meta_path.write_text(json.dumps({"size": 20, "etag": 'W/"weak"', "last_modified": "d"}))
    assert download.resume_headers(partial)[1]["If-Range"] == "d"  # a weak ETag cannot
