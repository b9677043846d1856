# scf-batch in a container: Debian's Python, the package installed from this folder into a
# virtual environment, a non-root user, the run folders on a volume at /runs, the key from the
# environment (never in the image).
#
#   docker build -t scf-batch .
#   docker run --rm -e CLOSE_API_KEY -v scf-batch-runs:/runs -v "$PWD/jobs:/jobs:ro" \
#     scf-batch run /jobs/nightly.toml --out /runs/nightly
#
# BASE may name another Debian bookworm image (a mirror of your registry's); its python3 is 3.11.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 python3-venv \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# only what the wheel is built from (.dockerignore keeps the rest out of the context)
COPY pyproject.toml README.md CHANGELOG.md ./
COPY scf_batch scf_batch
COPY jobs/demo.toml jobs/demo.toml
COPY data/demo data/demo
COPY data/sim/seed.json data/sim/seed.json
# Behind a TLS-inspecting proxy, hand pip its CA for this step only (never kept in the image):
#   docker build --secret id=pip-ca,src=/path/to/ca.pem -t scf-batch .
RUN --mount=type=secret,id=pip-ca \
    if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi \
 && python3 -m venv /opt/scf-batch \
 && /opt/scf-batch/bin/pip install --no-cache-dir --no-compile . \
 && /opt/scf-batch/bin/python -m compileall -q /opt/scf-batch/lib

FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /runs --shell /usr/sbin/nologin scf-batch \
 && mkdir /runs && chown scf-batch:scf-batch /runs
COPY --from=build /opt/scf-batch /opt/scf-batch
ENV PATH=/opt/scf-batch/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
WORKDIR /runs
# run folders (checkpoint, results, history): mount a volume here so a run can be continued
VOLUME ["/runs"]
ENTRYPOINT ["scf-batch"]
CMD ["--help"]
