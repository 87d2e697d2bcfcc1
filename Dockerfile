# syntax=docker/dockerfile:1
#
# The image every Airflow process in docker-compose.yaml runs (api-server, scheduler,
# dag-processor, triggerer, Celery worker, init): the official Airflow image plus this
# project, installed from uv.lock.
#
# Why `uv export` + `uv pip sync` into the image's own environment:
#   * The official image keeps Airflow in a virtualenv at /home/airflow/.local owned by the
#     `airflow` user (VIRTUAL_ENV points at it), and its docs ask for extra packages to be
#     installed as that user, never as root. `uv pip ...` installs into $VIRTUAL_ENV, so it
#     runs as `airflow` with no --system / --user tricks.
#   * Airflow's own "constraints file" approach pins what a plain `pip install` may pull in
#     so that Airflow is never up/downgraded by accident. uv.lock is a stricter version of
#     the same thing for *this* project: it pins apache-airflow==3.3.2 and every transitive
#     dependency (with hashes) to the set the tests ran against. The published constraints
#     are therefore not layered on top: they would disagree with the lock (e.g. dbt, duckdb,
#     pandas) and the lock is the tested set.
#   * `uv pip sync` (not `install`) makes the environment exactly the lock: the providers the
#     image pre-installs but this project does not lock (fab, google, amazon, ...) are removed
#     instead of being left behind with dependency versions they were never tested against.
#     Consequently the auth manager is Airflow 3's default SimpleAuthManager (see compose),
#     and pip is not in the environment either: the entrypoint's _PIP_ADDITIONAL_REQUIREMENTS
#     start-up install is deliberately unsupported - change pyproject.toml/uv.lock and rebuild.
#   * `uv export` runs `--frozen`: it fails rather than re-resolve, so a stale lock is caught.
#
# The project itself is installed *editable* from /opt/airflow/include: cxw.settings finds
# dbt_project/ and expectations/ next to include/ (PROJECT_DIR = parents[2] of the module), so
# the package has to live at /opt/airflow/include for the compose mounts at
# /opt/airflow/dbt_project and /opt/airflow/expectations to be found. A build-time check below
# fails the build if that ever stops being true.

FROM apache/airflow:3.3.2-python3.11

# uv.lock is written by a newer uv (lock revision 5) than the one the base image may ship,
# so use a pinned uv binary for the export/sync instead of the image's bundled one.
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv

USER airflow
WORKDIR /opt/airflow

# Dependencies first (changes rarely, cached layer), the project source afterwards.
COPY --chown=airflow:0 pyproject.toml uv.lock README.md ./
RUN /usr/local/bin/uv export --frozen --no-dev --no-emit-project --format requirements-txt \
        --quiet --output-file /tmp/cxw-requirements.txt \
    && /usr/local/bin/uv pip sync --no-cache --require-hashes /tmp/cxw-requirements.txt \
    && rm -f /tmp/cxw-requirements.txt

COPY --chown=airflow:0 include/ ./include/
RUN /usr/local/bin/uv pip install --no-cache --no-deps --editable . \
    && python -c "from importlib.metadata import version; import cxw.settings as s; \
assert version('apache-airflow') == '3.3.2', version('apache-airflow'); \
assert str(s.DBT_PROJECT_DIR) == '/opt/airflow/dbt_project', s.DBT_PROJECT_DIR; \
assert str(s.EXPECTATIONS_DIR) == '/opt/airflow/expectations', s.EXPECTATIONS_DIR"

# dags/, dbt_project/, expectations/ and the data directory (CXW_HOME) are mounted by
# docker-compose.yaml; nothing else to bake in. Entrypoint and CMD come from the base image.
