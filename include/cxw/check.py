"""``cxw check``: every setting checked in seconds, before any extraction starts.

Each check names the setting it is about and says, in one line, what is wrong:

- ``CXW_HOME`` can be created and written;
- the numeric settings (``CXW_HELPDESK_*``, ``CXW_WEB_LATE_DEADLINE_HOURS``) parse;
- ``CXW_WEB_EXPORT_PATH`` / ``CXW_SURVEY_DROP_PATH`` are set, exist and hold export
  files of the expected names; files that look like exports but are misnamed
  (``responses_2026-03-15.csv``) are warned about;
- ``AIRFLOW_CONN_HELPDESK_API`` is defined, the helpdesk answers and accepts the
  credentials (one small request, no retries);
- ``AIRFLOW_CONN_ORDERS_DB`` is defined, the database opens, and every table and column
  of the contract is there.

``cxw check`` prints the problems and exits non-zero on any error; ``cxw run`` runs it
first, and each extract DAG's first task runs the checks of its own source
(``require``), failing at once, without retries, with the problems as its cause.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cxw.errors import PermanentError
from cxw.settings import NUMBER_SETTINGS, Settings

log = logging.getLogger(__name__)

SOURCES = ("helpdesk", "web", "orders", "surveys")
# One quick request each: a check must take seconds, not a sync's retries.
HELPDESK_TIMEOUT = (5.0, 10.0)


@dataclass(frozen=True)
class Problem:
    setting: str
    message: str
    is_error: bool = True
    # The system did not answer (down, timing out): worth retrying, unlike a wrong setting.
    is_transient: bool = False

    def __str__(self) -> str:
        return f"{'error' if self.is_error else 'warning'}: {self.setting}: {self.message}"


class ConfigError(PermanentError):
    """A setting is missing or wrong: retrying cannot help until someone fixes it."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p.setting}: {p.message}" for p in problems))
        self.problems = problems


class SourceUnreachable(RuntimeError):
    """A configured system did not answer: the task is retried (a transient error)."""


def run_checks(sources: Iterable[str] = SOURCES) -> list[Problem]:
    """Every problem of the settings the given sources need (and the shared ones)."""
    problems = _check_numbers()
    settings = Settings.from_env(lenient=True)  # bad numbers are reported just above
    problems += _check_home(settings)
    checks: dict[str, Callable[[Settings], list[Problem]]] = {
        "helpdesk": _check_helpdesk,
        "web": _check_web,
        "orders": _check_orders,
        "surveys": _check_surveys,
    }
    for source in sources:
        problems += checks[source](settings)
    return problems


def require(*sources: str) -> None:
    """Raise ``ConfigError`` if the settings of ``sources`` have errors (warnings are
    logged): what an extract DAG's first task calls."""
    problems = run_checks(sources)
    for problem in problems:
        (log.error if problem.is_error else log.warning)("%s", problem)
    errors = [problem for problem in problems if problem.is_error]
    if errors and all(problem.is_transient for problem in errors):
        raise SourceUnreachable("; ".join(f"{p.setting}: {p.message}" for p in errors))
    if errors:
        raise ConfigError(errors)


def _check_home(settings: Settings) -> list[Problem]:
    try:
        settings.home.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=settings.home):
            pass
    except OSError as error:
        return [Problem("CXW_HOME", f"{settings.home} cannot be written: {error.strerror}")]
    return []


def _check_numbers() -> list[Problem]:
    problems = []
    for name in NUMBER_SETTINGS:
        text = os.environ.get(name)
        if not text:
            continue
        try:
            if float(text) <= 0:
                problems.append(Problem(name, f"{text!r} must be greater than 0"))
        except ValueError:
            problems.append(Problem(name, f"{text!r} is not a number"))
    return problems


def _check_folder(
    setting: str,
    url: str | None,
    expected: str,
    matches: Callable[[str], bool],
    misnamed: Callable[[list[str]], list[str]],
) -> list[Problem]:
    from cxw.sources.location import Location

    if not url:
        return [Problem(setting, "not set: point it at the folder or fsspec URL of the exports")]
    try:
        location = Location(url)
        names = location.names()
    except (OSError, ValueError, ImportError) as error:
        return [Problem(setting, f"cannot list {url}: {error}")]
    problems = [
        Problem(setting, f"{location.describe(name)} looks like an export but is not named "
                f"{expected}: it will not be read", is_error=False)
        for name in misnamed(names)
    ]
    if not any(matches(name) for name in names):
        problems.append(Problem(setting, f"{url} holds no {expected} file", is_error=False))
    return problems


def _check_web(settings: Settings) -> list[Problem]:
    import re

    from cxw.sources import web

    expected = re.compile(r"^events_\d{8}\.jsonl(\.gz)?$")
    return _check_folder(
        "CXW_WEB_EXPORT_PATH",
        settings.web_export_path,
        "events_YYYYMMDD.jsonl[.gz]",
        lambda name: bool(expected.match(name)),
        web.misnamed_exports,
    )


def _check_surveys(settings: Settings) -> list[Problem]:
    from cxw.sources import surveys

    return _check_folder(
        "CXW_SURVEY_DROP_PATH",
        settings.survey_drop_path,
        "responses_YYYYMMDD.csv",
        lambda name: bool(surveys.FILE_NAME.match(name)),
        surveys.misnamed_exports,
    )


def _check_helpdesk(settings: Settings) -> list[Problem]:
    from cxw import connections
    from cxw.sources import helpdesk

    setting = "AIRFLOW_CONN_HELPDESK_API"
    try:
        config = connections.helpdesk_config()
    except Exception as error:  # noqa: BLE001 - any failure to resolve is the finding
        return [Problem(setting, f"connection helpdesk_api is not usable: {error}")]
    client = helpdesk.HelpdeskClient(
        config, timeout=HELPDESK_TIMEOUT, max_attempts=1, per_page=1, sleep=lambda _: None
    )
    try:
        with client:
            client.get(helpdesk.GROUPS_PATH)
    except helpdesk.HelpdeskAuthError as error:
        return [Problem(setting, str(error))]
    except helpdesk.HelpdeskError as error:
        return [Problem(setting, f"helpdesk at {config.base_url} cannot be reached: {error}",
                        is_transient=True)]
    return []


def _check_orders(settings: Settings) -> list[Problem]:
    import sqlalchemy as sa

    from cxw import connections
    from cxw.sources import orders

    setting = "AIRFLOW_CONN_ORDERS_DB"
    try:
        url = connections.orders_db_url()
        engine = orders.connect(url)
    except Exception as error:  # noqa: BLE001 - any failure to resolve is the finding
        return [Problem(setting, f"connection orders_db is not usable: {error}")]
    problems = []
    try:
        inspector = sa.inspect(engine)
        present = set(inspector.get_table_names())
        for table in orders.ENTITIES.values():
            if table.name not in present:
                problems.append(Problem(setting, f"table {table.name!r} is missing"))
                continue
            columns = {column["name"] for column in inspector.get_columns(table.name)}
            missing = [name for name in table.columns if name not in columns]
            if missing:
                problems.append(
                    Problem(setting, f"table {table.name!r} lacks column(s) {', '.join(missing)}")
                )
    except sa.exc.SQLAlchemyError as error:
        first = str(getattr(error, "orig", None) or error).splitlines()[0]
        problems.append(Problem(setting, f"the orders database cannot be opened: {first}",
                                is_transient=isinstance(error, sa.exc.OperationalError)))
    finally:
        engine.dispose()
    return problems


def main() -> int:
    """Print every problem, one line each; exit code 1 if any is an error."""
    problems = run_checks()
    for problem in problems:
        print(problem)
    errors = sum(problem.is_error for problem in problems)
    warnings = len(problems) - errors
    print(f"cxw check: {errors} error(s), {warnings} warning(s)")
    return 1 if errors else 0
