# syntax=docker/dockerfile:1.7
# One image for every service and role of the smart supervision cloud (智慧监管云中心).
# The command picks the service and the role:
#   python -m services.<service> serve | worker | migrate     (microservices mode, Kubernetes)
#   python -m services.monolith                               (monolithic mode, the default command)
# Build: docker build -t supervision-cloud:$(git rev-parse --short HEAD) .
# The base images are named by tag here; a release pins them by digest (python:3.11-slim-bookworm@sha256:...,
# the same in both Python stages) so that a rebuild of the same commit is the same image.

# ---------------------------------------------------------------------------------------------
# web: the gateway dashboard's chart library (ECharts, pinned by package-lock.json), fetched from
# npm at build time by the gateway's own script; nothing is fetched at run time.
FROM node:20-bookworm-slim AS web
WORKDIR /src/services/gateway/web
COPY services/gateway/web/package.json services/gateway/web/package-lock.json services/gateway/web/build.sh ./
RUN ./build.sh

# ---------------------------------------------------------------------------------------------
# build: the virtual environment from the lock file, the generated gRPC stubs, bytecode.
FROM python:3.11-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/venv/bin:$PATH
WORKDIR /src
RUN python -m venv /opt/venv
# Every runtime dependency is pinned in the lock (pip freeze of pyproject's dependencies); --no-deps
# keeps pip from resolving anything the lock does not name.
COPY deploy/requirements.lock deploy/requirements.lock
RUN pip install --no-deps -r deploy/requirements.lock
# Stubs are generated here, from protos/, never copied from a developer's tree.
COPY protos protos
COPY tools/gen_protos.py tools/gen_protos.py
RUN python tools/gen_protos.py
COPY services services
COPY deploy/image deploy/image
# protoc (grpcio-tools) and pip are build tools: they stay in this stage. The read-only root
# filesystem of the pods means no bytecode can be written at run time, so compile it now.
RUN pip uninstall --yes grpcio-tools \
    && python -m compileall -q -j 0 services supervision deploy/image /opt/venv/lib \
    && pip uninstall --yes pip

# ---------------------------------------------------------------------------------------------
# runtime: the interpreter, the venv, the code and the dashboard's assets; no pip, no compiler,
# no protoc, no node; a non-root user.
FROM python:3.11-slim-bookworm AS runtime
LABEL org.opencontainers.image.title="smart-supervision-cloud" \
      org.opencontainers.image.description="智慧监管云中心: every service of the smart supervision cloud, one image" \
      org.opencontainers.image.source="deploy/k8s (kustomize), docs/operations.md"
# The enforcement documents (执法文书) are laid out by Pango (WeasyPrint) in Debian's Noto CJK
# fonts, embedded in every PDF. The base image's own pip, setuptools and wheel are build tools too.
RUN apt-get update \
    && apt-get install --yes --no-install-recommends libpango-1.0-0=1.50.12+ds-1 \
       libpangoft2-1.0-0=1.50.12+ds-1 fonts-noto-cjk=1:20220127+repack1-1 \
    && rm -rf /var/lib/apt/lists/* \
    && python -m pip uninstall --yes --no-cache-dir setuptools wheel pip \
    && groupadd --system --gid 10001 supervision \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin supervision \
    && mkdir -p /var/lib/supervision \
    && chown 10001:10001 /var/lib/supervision
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DATA_DIR=/var/lib/supervision \
    LOG_FORMAT=json
WORKDIR /app
COPY --from=build /opt/venv /opt/venv
COPY --from=build /src/services services
COPY --from=build /src/supervision supervision
COPY --from=build /src/deploy/image deploy/image
COPY --from=web /src/services/gateway/static/vendor services/gateway/static/vendor
USER 10001:10001
# gRPC (GRPC_PORT), /metrics (METRICS_PORT), gateway and monolith HTTP (HTTP_PORT).
EXPOSE 50051 9090 8080
# Kubernetes probes every process natively (gRPC health, HTTP); a plain `docker run` of the
# monolith has no probe of its own.
HEALTHCHECK NONE
CMD ["python", "-m", "services.monolith"]
