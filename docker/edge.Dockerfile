# syntax=docker/dockerfile:1
# A cooperative gateway box that runs containers (most run the edge straight from
# provisioning/device/setup-gateway.sh instead). Build from the repository root:
#   docker build -f docker/edge.Dockerfile -t cocoa-edge .
FROM python:3.11.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY shared ./shared
COPY edge ./edge
COPY hub ./hub
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11.11-slim-bookworm
RUN useradd --uid 10001 --create-home --shell /usr/sbin/nologin cocoa
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links /wheels cocoa-trace && rm -rf /wheels
USER 10001
# The key, the SQLite journal and the receipts live here: mount a volume, back it up.
ENV COCOA_EDGE_HOME=/data PYTHONUNBUFFERED=1
VOLUME ["/data"]
EXPOSE 8080
CMD ["cocoa-edge", "serve", "--host", "0.0.0.0", "--port", "8080"]
