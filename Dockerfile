# Portico: the gateway alone (no test components). Build: docker build -t portico .
# Run: mount a configuration at /etc/portico/portico.yaml whose `listen` is host 0.0.0.0, port 8080,
# and pass PORTICO_SECRET_KEY / PORTICO_DATABASE_URL as the configuration requires.
# The image ships examples/ (the `portico-example-notes` demo server, quickstart.yaml) and checks
# GET /healthz (set PORTICO_HEALTHCHECK_URL if `listen` is another port).
# tests/integration/app/test_docker_context.py builds this context without a container engine.

FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PYTHON=/usr/local/bin/python3.11
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /app
# Dependencies first (cached while only the source changes), then the project itself, non-editable.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project
COPY app ./app
COPY oauth ./oauth
COPY proxy ./proxy
COPY migrations ./migrations
COPY examples ./examples
RUN uv sync --frozen --no-dev --no-editable

FROM python:3.11-slim
RUN useradd --system --create-home --home-dir /var/lib/portico --uid 10001 --user-group portico \
    && mkdir -p /etc/portico
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PORTICO_HEALTHCHECK_URL=http://127.0.0.1:8080/healthz
WORKDIR /var/lib/portico
USER portico
EXPOSE 8080
# No curl in the slim image: the standard library asks /healthz (200 while the process serves).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ['PORTICO_HEALTHCHECK_URL'], timeout=4)"]
CMD ["portico", "serve", "--config", "/etc/portico/portico.yaml"]
