"""deploy/nginx.conf as a visitor meets it: the pages, the websocket's neighbours and
the health check pass; Streamlit's internal endpoints (metrics, the script health check,
uploads, the agent API, anything else under /_stcore/) do not; and the client address
the app sees is the one nginx saw, whatever the client claims. Runs the real nginx
(Debian's package, installed by .ci/run) against a stand-in replica; skipped without it.

Also: `make run` listens on loopback unless told otherwise, and secrets stay out of git."""

from __future__ import annotations

import gzip
import re
import shutil
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from bench.headless import free_port

REPO = Path(__file__).resolve().parents[1]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


class Replica(ThreadingHTTPServer):
    """Answers 200 to everything and records the headers it was sent."""

    seen: list[dict[str, str]]


def _replica() -> Replica:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            self.server.seen.append({k.lower(): v for k, v in self.headers.items()})  # type: ignore[attr-defined]
            body = b"replica:" + self.path.encode()
            script = self.path.startswith("/static/js/")  # the app's JavaScript
            body += b";var x = 1;" * 1000 if script else b""
            self.send_response(200)
            if script:
                self.send_header("Content-Type", "application/javascript")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = Replica(("127.0.0.1", 0), Handler)
    server.seen = []
    return server


@pytest.fixture
def proxy(tmp_path: Path) -> Iterator[tuple[str, Replica]]:
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (.ci/run installs Debian's package)")
    replica = _replica()
    threading.Thread(target=replica.serve_forever, daemon=True).start()
    port = free_port()
    upstream = replica.server_address[1]
    conf = (REPO / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    conf = conf.replace("127.0.0.1:8680", f"127.0.0.1:{port}")
    conf = re.sub(r"127\.0\.0\.1:862[12]", f"127.0.0.1:{upstream}", conf)
    conf = conf.replace("pid nginx.pid;", "pid nginx.pid;\ndaemon off;")
    (tmp_path / "nginx.conf").write_text(conf, encoding="utf-8")
    for folder in ("logs", "tmp"):
        (tmp_path / folder).mkdir()
    process = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=2)
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start: {process.stderr.read()!r}") from None  # type: ignore[union-attr]
                time.sleep(0.1)
        replica.seen.clear()
        yield url, replica
    finally:
        process.terminate()
        process.wait(timeout=10)
        replica.shutdown()
        replica.server_close()


def status(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


PUBLIC = [
    "/",
    "/explorer?minerals=gallium",
    "/_stcore/health",
    "/_stcore/host-config",
    "/static/js/index.js",
    "/media/abc.csv",
    "/app/static/land.json",
]
INTERNAL = [
    "/_stcore/metrics",
    "/_stcore/script-health-check",
    "/_stcore/agent/openapi.json",
    "/_stcore/agent/mcp",
    "/_stcore/upload_file/session/file",
    "/_stcore/anything",
]


def test_nginx_passes_the_pages_and_closes_the_internal_endpoints(
    proxy: tuple[str, Replica],
) -> None:
    url, replica = proxy
    for path in PUBLIC:
        assert status(url + path) == 200, path
    for path in INTERNAL:
        assert status(url + path) == 404, path
    assert len(replica.seen) == len(PUBLIC)  # nothing internal reached it


def test_nginx_compresses_the_apps_javascript(proxy: tuple[str, Replica]) -> None:
    url, _ = proxy
    request = urllib.request.Request(
        url + "/static/js/index.js", headers={"Accept-Encoding": "gzip"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.headers["Content-Encoding"] == "gzip"
        body = gzip.decompress(response.read())
    assert body.startswith(b"replica:/static/js/index.js;var x = 1;")


def test_nginx_tells_the_app_the_address_it_saw(proxy: tuple[str, Replica]) -> None:
    url, replica = proxy
    assert status(url + "/", {"X-Real-IP": "203.0.113.9", "X-Forwarded-For": "203.0.113.9"}) == 200
    seen = replica.seen[-1]
    assert seen["host"] == url.removeprefix("http://")  # Streamlit compares it with Origin
    assert seen["x-real-ip"] == "127.0.0.1"
    assert seen["x-forwarded-for"] == "127.0.0.1"


def test_make_run_listens_on_loopback_unless_told_otherwise() -> None:
    dry = subprocess.run(
        ["make", "-n", "run"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert "--server.address 127.0.0.1" in dry
    wide = subprocess.run(
        ["make", "-n", "run", "ADDRESS=0.0.0.0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--server.address 0.0.0.0" in wide
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first = re.search(r"```sh\n(.*?)\n", readme)
    assert first is not None and first.group(1).startswith("make run")


def test_secrets_stay_out_of_git() -> None:
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".streamlit/secrets.toml"], cwd=REPO, check=False
    )
    assert ignored.returncode == 0


def test_the_hashed_lock_pins_what_requirements_lock_pins() -> None:
    """The image installs requirements.hashes.lock: the same packages and versions as
    requirements.lock, each with a SHA-256, and the Dockerfile requires the hashes."""

    def pins(text: str) -> dict[str, str]:
        found = re.findall(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", text, re.M)
        return {name.lower(): version for name, version in found}

    plain = pins((REPO / "requirements.lock").read_text(encoding="utf-8"))
    hashed_text = (REPO / "requirements.hashes.lock").read_text(encoding="utf-8")
    assert pins(hashed_text) == plain and plain
    assert len(re.findall(r"^\s+--hash=sha256:[0-9a-f]{64}$", hashed_text, re.M)) == len(plain)
    docker = (REPO / "Dockerfile").read_text(encoding="utf-8")
    assert "--require-hashes" in docker and "requirements.hashes.lock" in docker
    assert re.search(r"^FROM python:3\.11\.\d+-slim-\w+$", docker, re.M)
