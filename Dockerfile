# Plaza server image: the core plus the gen, recsys and lan extras at the versions of
# requirements/serve.lock, the bundled worlds and the web client, run as a non-root user.
#   docker build -t plaza .  &&  docker run -p 8080:8080 -v plaza-data:/data plaza
# or `docker compose up --build` (compose.yaml). State lives in the /data volume.
# Docker cannot run on the project's CI machines: tests/test_packaging.py lints this file with
# hadolint and compose.yaml against the compose-spec schema.

# The web client's npm packages (three.js, ...), served from web_client/node_modules.
FROM node:20-bookworm-slim AS web
WORKDIR /src/web_client
COPY web_client/package.json web_client/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PLAZA_GENMODELS_CACHE=/data/genmodels-cache \
    HF_HUB_OFFLINE=1
# The lock pins torch 2.13.0+cpu, which lives on PyTorch's CPU index (PyPI has only CUDA builds).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# janus: the voice SFU that `plaza serve` starts and supervises (Debian bookworm: 1.1.2).
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends janus \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --gid 10001 plaza \
    && useradd --create-home --no-log-init --uid 10001 --gid 10001 plaza \
    && mkdir /data \
    && chown 10001:10001 /data
WORKDIR /app
# Dependencies first: this layer is rebuilt only when the lock changes.
COPY requirements/serve.lock requirements/serve.lock
RUN pip install --no-cache-dir --extra-index-url "$TORCH_INDEX_URL" -r requirements/serve.lock
COPY pyproject.toml README.md ./
COPY server server
COPY genmodels genmodels
COPY worlds worlds
COPY sdk sdk
COPY web_client web_client
COPY --from=web /src/web_client/node_modules web_client/node_modules
# Editable, like a checkout: the server finds worlds/ and web_client/ beside its package.
RUN pip install --no-cache-dir --no-deps -e .
USER 10001:10001
VOLUME ["/data"]
EXPOSE 8080
# Voice media (RTP/ICE over UDP) of the Janus inside; behind Docker's NAT also set
# PLAZA_VOICE__PUBLIC_IP to the host's LAN address (compose.yaml).
EXPOSE 20000-20199/udp
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/api/health', timeout=4)"]
CMD ["plaza", "serve", "--host", "0.0.0.0", "--port", "8080", "--data", "/data", "--voice-rtp-ports", "20000-20199"]
