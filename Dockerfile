# leadscore service image: `docker build -t leadscore:0.1.0 .`
# Runs `leadscore run` (scheduled incremental syncs, /healthz /readyz /metrics on 8080).
# Rules come from /app/config (mount your own over it); SQLite state lives in the
# /app/data volume unless LEADSCORE_DATABASE_URL points at PostgreSQL.

ARG PYTHON_IMAGE=python:3.11-slim

# --- builder: wheels for leadscore and every dependency, pinned by constraints.txt ---
FROM ${PYTHON_IMAGE} AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY pyproject.toml README.md constraints.txt ./
COPY src/ ./src/
RUN python -m pip wheel --wheel-dir /wheels --constraint constraints.txt .

# --- runtime: the wheels installed offline on a clean slim image, run as a non-root user ---
FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system --gid 10001 leadscore \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --shell /usr/sbin/nologin leadscore
COPY --from=builder /wheels /wheels
RUN python -m pip install --no-index --find-links /wheels leadscore \
    && rm -rf /wheels
WORKDIR /app
COPY config/ /app/config/
RUN mkdir -p /app/data && chown leadscore:leadscore /app/data
ENV LEADSCORE_RULES=/app/config/scoring.yaml \
    LEADSCORE_DATABASE_URL=sqlite:////app/data/leadscore.db \
    LEADSCORE_HTTP_PORT=8080 \
    LEADSCORE_LOG_FORMAT=json
VOLUME ["/app/data"]
USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-m", "leadscore.service.healthcheck", "/healthz"]
CMD ["leadscore", "run"]
