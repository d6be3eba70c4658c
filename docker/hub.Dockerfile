# syntax=docker/dockerfile:1
# The hub: Flask app served by gunicorn, non-root, read-only root filesystem friendly.
# Build from the repository root:  docker build -f docker/hub.Dockerfile -t cocoa-hub .

# Stage 1 builds wheels so the runtime image carries no compiler.
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
# Dependencies first: this layer is reused until pyproject.toml changes.
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY edge ./edge
COPY hub ./hub
RUN pip wheel --no-cache-dir --wheel-dir /wheels . gunicorn==23.0.0

FROM python:3.11.11-slim-bookworm
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin cocoa
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels cocoa-trace gunicorn \
    && rm -rf /wheels
USER 10001
ENV COCOA_HUB_HOME=/tmp/cocoa-hub PYTHONUNBUFFERED=1
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)" || exit 1
# Migrations run as a separate one-off task (cocoa-hub db upgrade) before a deploy.
CMD ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "2", "--threads", "4", "hub.wsgi:app"]
