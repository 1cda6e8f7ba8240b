# critmin: the Streamlit app in a small image. The warehouse is NOT in the image:
# mount a built warehouse read-only at /data (see docs/deploying.md).
#
#   docker build -t critmin .
#   docker run --rm -p 8501:8501 -v /srv/critmin/warehouse:/data:ro critmin
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    CRITMIN_DATA_DIR=/data

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin critmin
WORKDIR /app

# Pinned dependencies first, so code changes do not re-install them.
COPY requirements.lock ./
RUN pip install -r requirements.lock

COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install --no-deps . && rm -rf src build

COPY app.py ./
COPY pages ./pages
COPY static ./static
COPY .streamlit/config.toml ./.streamlit/config.toml

USER critmin
VOLUME ["/data"]
EXPOSE 8501

HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; r = urllib.request.urlopen('http://localhost:8501/_stcore/health', timeout=4); sys.exit(r.status != 200)"]

# fileWatcherType none: no module reloads in production (a reload mid-session
# breaks st.cache_data pickling of critmin classes).
CMD ["streamlit", "run", "app.py", "--server.address", "0.0.0.0", "--server.port", "8501", \
     "--server.headless", "true", "--server.fileWatcherType", "none", \
     "--browser.gatherUsageStats", "false"]
