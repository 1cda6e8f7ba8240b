# critmin: the Streamlit app in a small image. The warehouse is NOT in the image:
# mount a built warehouse read-only at /data (see docs/deploying.md).
#
#   docker build -t critmin .
#   docker run --rm -p 8501:8501 -v /srv/critmin/warehouse:/data:ro critmin
#
# Pinned by tag to one Python release and one Debian release. Not by digest: resolving
# one needs the registry, which the machines this was written on cannot reach; pin it
# where you build (docs/deploying.md, section 2).
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CRITMIN_DATA_DIR=/data

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin critmin
WORKDIR /app

# Pinned dependencies first, so code changes do not re-install them; every wheel is
# checked against its SHA-256 (x86-64 Linux wheels: regenerate the lock for arm64).
COPY requirements.hashes.lock ./
RUN pip install --require-hashes --no-deps --only-binary=:all: -r requirements.hashes.lock

COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-deps . && rm -rf src build

COPY app.py serve.py ./
COPY pages ./pages
COPY static ./static
COPY .streamlit/config.toml ./.streamlit/config.toml

USER critmin
VOLUME ["/data"]
EXPOSE 8501

# Liveness. /_stcore/health is answered by the server's event loop: it takes
# milliseconds, and under 16 sessions at once on 2 cores its worst answer took 0.6 s
# (tests/test_stress.py). A frozen process (the GIL/polars-pool deadlock seen on the
# shared demo) still accepts the TCP connection but never answers, so the check must
# time out: 2 s in the probe, 3 s for Docker to give up on it. A replica that misses 3
# checks 10 s apart (one slow answer is not a death) is "unhealthy" 26-36 s after it
# froze; an orchestrator (Swarm, Kubernetes, autoheal) then replaces it. Plain
# `docker run --restart` does NOT act on health: see docs/deploying.md. During start
# (up to 60 s) failures do not count and the check runs every 2 s (Docker >= 25).
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --start-interval=2s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://127.0.0.1:8501/_stcore/health', timeout=2); sys.exit(r.status != 200)"]

# `docker stop` sends SIGTERM and SIGKILL 10 s later (--stop-timeout): a frozen process
# ignores SIGTERM, so it is the KILL that ends it.
STOPSIGNAL SIGTERM

# fileWatcherType none: no module reloads in production (a reload mid-session
# breaks st.cache_data pickling of critmin classes).
CMD ["streamlit", "run", "serve.py", "--server.address", "0.0.0.0", "--server.port", "8501", \
     "--server.headless", "true", "--server.fileWatcherType", "none", \
     "--browser.gatherUsageStats", "false"]
