"""What the multi-process deployment (docker-compose.yaml, Dockerfile, .dockerignore)
relies on, checked without Docker: the compose file is parsed with PyYAML (which resolves
the ``x-airflow-common`` anchor and ``<<`` merges the way compose does) and the Dockerfile
read as text.

Behaviour, not a copy of the file: the services are there and every Airflow process shares
one configuration; the executor's wiring points at the services of the file; the mounts
exist in the repository and land where the environment and ``cxw.settings`` look; no
secret is committed; the image is built from the lock file; ``cxw cluster`` runs the same
configuration.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml

import cxw.settings as cxw_settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
    "airflow-init",
)
REQUIRED_SERVICES = ("postgres", "redis", *AIRFLOW_SERVICES)

PASSED_THROUGH = (
    "AIRFLOW_CONN_HELPDESK_API",
    "AIRFLOW_CONN_ORDERS_DB",
    "CXW_WEB_EXPORT_PATH",
    "CXW_SURVEY_DROP_PATH",
    "CXW_EMAIL_SALT",
)

# --------------------------------------------------------------------------- helpers

SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|FERNET|SALT|_KEY$|^AIRFLOW_CONN_", re.I)
# A whole value that is one compose substitution: ${VAR}, ${VAR:-default}, ${VAR:?message} ...
SUBSTITUTION = re.compile(
    r"^\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}$"
)
# The one literal password allowed: the compose-local postgres default, as in Airflow's file.
LOCAL_DB_PASSWORD = "airflow"


def split_volume(spec: str) -> tuple[str, str, str]:
    """``source:target[:mode]`` -> parts, ignoring colons inside ``${VAR:-default}``."""
    parts, depth, current = [], 0, ""
    for index, char in enumerate(spec):
        if char == "{" and spec[index - 1 : index] == "$":
            depth += 1
        elif char == "}" and depth:
            depth -= 1
        if char == ":" and not depth:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    assert 2 <= len(parts) <= 3, f"unexpected volume spec {spec!r}"
    source, target, mode = (*parts, "rw") if len(parts) == 2 else parts
    return source, target, mode


def literal_secrets(environment: dict[str, object]) -> list[str]:
    """Names of environment entries that carry a committed secret value."""
    found = []
    for name, raw in environment.items():
        value = "" if raw is None else str(raw)
        if SECRET_NAME.search(name):
            match = SUBSTITUTION.match(value)
            if match:
                # ${VAR:-literal} would commit the literal as a fallback secret.
                if match["op"] in ("-", ":-") and match["arg"]:
                    found.append(name)
            elif not (name.endswith("POSTGRES_PASSWORD") and value == LOCAL_DB_PASSWORD):
                found.append(name)
        for url in re.findall(r"[a-z][a-z0-9+.-]*://[^\s'\"]+", value):
            password = urlsplit(url).password
            if password and password != LOCAL_DB_PASSWORD and not SUBSTITUTION.match(password):
                found.append(name)
    return found


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, comments dropped and line continuations joined."""
    logical, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        current += stripped
        logical.append(current)
        current = ""
    pairs = []
    for line in logical:
        instruction, _, arguments = line.partition(" ")
        pairs.append((instruction.upper(), arguments.strip()))
    return pairs


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


@pytest.fixture(scope="module")
def common(compose) -> dict:
    return compose["x-airflow-common"]


@pytest.fixture(scope="module")
def common_env(common) -> dict:
    return common["environment"]


@pytest.fixture(scope="module")
def mounts(common) -> dict[str, tuple[str, str]]:
    """target -> (source, mode) of the common volumes."""
    result = {}
    for spec in common["volumes"]:
        source, target, mode = split_volume(spec)
        result[target] = (source, mode)
    return result


@pytest.fixture(scope="module")
def instructions() -> list[tuple[str, str]]:
    return dockerfile_instructions(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


# --------------------------------------------------------------------------- compose: shape


def test_required_services_exist(services):
    missing = [name for name in REQUIRED_SERVICES if name not in services]
    assert not missing, f"services missing from docker-compose.yaml: {missing}"


def test_airflow_services_share_the_common_config(services, common, common_env):
    """One definition (the x-airflow-common anchor) for every Airflow process: the image
    built from our Dockerfile, the mounts and the environment."""
    build = common["build"]
    context = build if isinstance(build, str) else build["context"]
    dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
    assert (ROOT / context / dockerfile).resolve() == DOCKERFILE
    for name in AIRFLOW_SERVICES:
        service = services[name]
        assert service.get("build") == common["build"], name
        assert service.get("image") == common.get("image"), name
        assert service.get("user") == common["user"] or name == "airflow-init", name
        assert service["volumes"] == common["volumes"], name
        env = service["environment"]
        differing = {k for k, v in common_env.items() if env.get(k) != v}
        assert not differing, f"{name} does not carry the common environment: {differing}"


def test_init_migrates_and_creates_the_pool_the_transform_dag_runs_in(services):
    from cxw.dag_defaults import WAREHOUSE_POOL

    init = services["airflow-init"]
    assert init["environment"].get("_AIRFLOW_DB_MIGRATE") == "true"
    script = "\n".join(init["command"])
    assert re.search(rf"airflow pools set {WAREHOUSE_POOL} 1 \S", script), script


# --------------------------------------------------------------------------- compose: wiring


def test_the_celery_executor_is_wired_to_the_services_of_the_file(common_env, services):
    """CeleryExecutor, Redis as broker, PostgreSQL (with the postgres service's own
    credentials) as metadata database and result backend, the Execution API on the
    api-server's port."""
    assert common_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert str(common_env["AIRFLOW__CORE__LOAD_EXAMPLES"]).lower() == "false"
    broker = urlsplit(common_env["AIRFLOW__CELERY__BROKER_URL"])
    metadata = urlsplit(common_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    results = urlsplit(common_env["AIRFLOW__CELERY__RESULT_BACKEND"])
    assert broker.scheme == "redis" and broker.hostname == "redis"
    assert metadata.scheme.startswith("postgresql") and metadata.hostname == "postgres"
    assert results.scheme.startswith("db+postgresql") and results.hostname == "postgres"
    postgres_env = services["postgres"]["environment"]
    for url in (metadata, results):
        assert url.username == postgres_env["POSTGRES_USER"]
        assert url.password == postgres_env["POSTGRES_PASSWORD"]
        assert url.path.lstrip("/") == postgres_env["POSTGRES_DB"]
    execution = urlsplit(common_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert execution.hostname == "airflow-apiserver"
    container_ports = {str(p).split(":")[-1] for p in services["airflow-apiserver"]["ports"]}
    assert str(execution.port) in container_ports


def test_sources_and_secrets_come_from_the_host_environment(common_env):
    for name in PASSED_THROUGH:
        assert name in common_env, name
        match = SUBSTITUTION.match(str(common_env[name]))
        assert match and match["name"] == name, f"{name} should be ${{{name}...}}"
    for name in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"):
        match = SUBSTITUTION.match(str(common_env.get(name, "")))
        assert match, f"{name} must be a ${{...}} substitution"
        assert not (match["op"] in ("-", ":-") and match["arg"]), f"{name} has a literal default"


# --------------------------------------------------------------------------- compose: mounts


def test_mount_sources_exist_and_targets_match_the_environment(mounts, common_env):
    by_source = {PurePosixPath(source).name: target for target, (source, _) in mounts.items()}
    dags_target = by_source.get("dags")
    assert dags_target == common_env["AIRFLOW__CORE__DAGS_FOLDER"]
    for directory in ("dags", "dbt_project", "expectations"):
        assert directory in by_source, f"{directory} is not mounted"
        assert (ROOT / directory).is_dir(), f"{directory}/ does not exist in the project"
    assert "/opt/airflow/logs" in mounts


def test_cxw_home_is_shared_writable_storage(mounts, common_env):
    """The lake, sync state and warehouse live in CXW_HOME: every worker must write the
    same host folder (settable, as the README says), nothing stays in a container."""
    cxw_home = common_env["CXW_HOME"]
    assert cxw_home in mounts, f"nothing is mounted at CXW_HOME={cxw_home}"
    source, mode = mounts[cxw_home]
    match = SUBSTITUTION.match(source)
    assert match and match["name"] == "CXW_DATA_DIR", source
    assert mode == "rw"


def test_dbt_project_and_expectations_are_where_cxw_settings_looks(mounts, instructions):
    """cxw.settings finds them next to include/, so the image must install include/ editable
    under WORKDIR and the mounts must land in WORKDIR too."""
    workdir = PurePosixPath([args for ins, args in instructions if ins == "WORKDIR"][-1])
    project = cxw_settings.PROJECT_DIR
    package_dir = Path(cxw_settings.__file__).resolve().parent.relative_to(project)
    assert package_dir.parts[0] == "include"
    for directory in (cxw_settings.DBT_PROJECT_DIR, cxw_settings.EXPECTATIONS_DIR):
        target = str(workdir / directory.relative_to(project).as_posix())
        assert target in mounts, f"{directory.name} must be mounted at {target}"
        source, _ = mounts[target]
        assert PurePosixPath(source).name == directory.name
    copies = [args.split() for ins, args in instructions if ins == "COPY"]
    assert any(
        "include/" in parts and parts[-1].rstrip("/") in ("./include", f"{workdir}/include")
        for parts in copies
    ), "include/ must be copied to WORKDIR/include"
    runs = " ".join(args for ins, args in instructions if ins == "RUN")
    assert re.search(r"uv pip install[^&]*(--editable|-e) \.", runs), "project must be editable"


# --------------------------------------------------------------------------- secrets


def test_no_literal_secrets_in_compose(compose):
    environments = {"x-airflow-common": compose["x-airflow-common"].get("environment", {})}
    for name, service in compose["services"].items():
        environments[name] = service.get("environment") or {}
    offenders = {name: literal_secrets(env) for name, env in environments.items()}
    offenders = {name: keys for name, keys in offenders.items() if keys}
    assert not offenders, f"literal secrets in docker-compose.yaml: {offenders}"


def test_no_fernet_like_keys_anywhere_in_compose_text():
    text = COMPOSE_FILE.read_text()
    assert not re.search(r"[A-Za-z0-9_-]{43}=", text), "looks like a committed Fernet key"
    assert not re.search(r"\b[0-9a-f]{32,}\b", text), "looks like a committed hex secret"


@pytest.mark.parametrize(
    ("environment", "expected"),
    [
        ({"AIRFLOW__CORE__FERNET_KEY": "c2VjcmV0"}, ["AIRFLOW__CORE__FERNET_KEY"]),
        ({"AIRFLOW__API_AUTH__JWT_SECRET": "${JWT:-changeme}"}, ["AIRFLOW__API_AUTH__JWT_SECRET"]),
        ({"AIRFLOW_CONN_ORDERS_DB": "postgres://u:hunter2@db/x"}, ["AIRFLOW_CONN_ORDERS_DB"] * 2),
        ({"SQL_ALCHEMY_CONN": "postgresql://u:hunter2@db/x"}, ["SQL_ALCHEMY_CONN"]),
        ({"POSTGRES_PASSWORD": "hunter2"}, ["POSTGRES_PASSWORD"]),
        ({"POSTGRES_PASSWORD": "airflow"}, []),
        ({"AIRFLOW__CORE__FERNET_KEY": "${AIRFLOW__CORE__FERNET_KEY:?set it}"}, []),
        ({"CXW_EMAIL_SALT": "${CXW_EMAIL_SALT:-}"}, []),
        ({"BROKER_URL": "redis://:@redis:6379/0"}, []),
    ],
)
def test_the_secret_detector_itself(environment, expected):
    assert literal_secrets(environment) == expected


def test_volume_parser_handles_substitution_defaults():
    assert split_volume("${CXW_DATA_DIR:-./data}:/opt/cxw") == (
        "${CXW_DATA_DIR:-./data}",
        "/opt/cxw",
        "rw",
    )
    assert split_volume("${P:-.}/dbt_project:/opt/airflow/dbt_project:ro")[2] == "ro"


# --------------------------------------------------------------------------- Dockerfile


def test_dockerfile_builds_on_the_locked_airflow_and_python(instructions, pyproject):
    froms = [args for ins, args in instructions if ins == "FROM"]
    assert froms, "Dockerfile has no FROM"
    image = froms[0].split()[0]
    airflow_pin = next(
        d.split("==")[1]
        for d in pyproject["project"]["dependencies"]
        if d.startswith("apache-airflow==")
    )
    python = re.search(r"3\.\d+", pyproject["project"]["requires-python"]).group()
    assert image == f"apache/airflow:{airflow_pin}-python{python}"


def test_dockerfile_installs_from_the_lock_file_as_airflow(instructions):
    copies = " ".join(args for ins, args in instructions if ins == "COPY")
    for name in ("pyproject.toml", "uv.lock", "README.md", "include/"):
        assert name in copies, f"{name} is not copied into the image"
    runs = [args for ins, args in instructions if ins == "RUN"]
    install = next((r for r in runs if "uv export" in r or "uv sync" in r), None)
    assert install, "dependencies are not installed from uv.lock"
    assert re.search(r"--frozen|--locked", install), "install must not re-resolve the lock"
    assert "--no-dev" in install
    assert not any(re.search(r"\buv lock\b", r) for r in runs)
    # Installs run as the image's `airflow` user, as the official image requires.
    users = [(index, args) for index, (ins, args) in enumerate(instructions) if ins == "USER"]
    install_index = next(i for i, (ins, args) in enumerate(instructions) if args == install)
    active = [args for index, args in users if index < install_index]
    assert active and active[-1] == "airflow"


def test_dockerignore_keeps_local_state_out_of_the_build_context():
    entries = {
        line.strip().rstrip("/")
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    required = {".venv", ".tools", ".git", ".airflow", ".cxw", "dbt_project/target", "logs", "data"}
    assert required <= entries, required - entries
    # What the Dockerfile copies must stay in the context.
    for needed in ("pyproject.toml", "uv.lock", "README.md", "include"):
        assert needed not in entries, needed


# --------------------------------------------------------------------------- the local cluster


def test_the_local_cluster_runs_the_compose_configuration(tmp_path, common_env):
    """cxw.cluster (and its integration test) starts Airflow from x-airflow-common itself:
    the same names and executor settings, only hosts, ports, paths and secrets differ."""
    from cryptography.fernet import Fernet

    from cxw.cluster import ClusterPlan

    settings = cxw_settings.Settings(
        home=tmp_path / "cxw", web_export_path=None, survey_drop_path=None, email_salt=""
    )

    def plan() -> ClusterPlan:
        return ClusterPlan(
            settings=settings,
            airflow_home=tmp_path / "airflow",
            log_dir=tmp_path / "logs",
            postgres_url="postgresql://postgres@127.0.0.1:5432/postgres",
            redis_url="redis://127.0.0.1:6379/0",
        )

    first = plan()
    env = first.environment(base={"PATH": "/usr/bin", "CXW_EMAIL_SALT": "pepper"})
    assert set(common_env) <= set(env)
    for name in ("AIRFLOW__CORE__EXECUTOR", "AIRFLOW__CORE__AUTH_MANAGER"):
        assert env[name] == common_env[name]
    for name in ("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", "AIRFLOW__CELERY__RESULT_BACKEND"):
        compose_url, local_url = urlsplit(common_env[name]), urlsplit(env[name])
        assert local_url.scheme == compose_url.scheme, name
        assert (local_url.hostname, local_url.path) == ("127.0.0.1", f"/{first.database}")
    broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
    assert (broker.scheme, broker.hostname, broker.port) == ("redis", "127.0.0.1", 6379)
    execution = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert execution.path == urlsplit(common_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]).path
    assert execution.port == first.api_port
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == str(ROOT / "dags")
    assert env["CXW_HOME"] == str(settings.home)
    assert env["CXW_EMAIL_SALT"] == "pepper"  # ${CXW_EMAIL_SALT:-} from the environment
    # Secrets are generated per run, never the compose text and never the same twice.
    second = plan().environment(base={"PATH": "/usr/bin"})
    for name in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"):
        assert env[name] and "$" not in env[name] and env[name] != second[name], name
    Fernet(env["AIRFLOW__CORE__FERNET_KEY"].encode())
