"""The dbt unit tests (hand-computed rows for business minutes, SLA breaches, stitching,
NPS, ...) run here, in `make test` and CI: the scheduled build leaves them out."""

from __future__ import annotations

import re

import yaml

from cxw import warehouse
from cxw.settings import DBT_PROJECT_DIR, Settings


def declared_unit_tests() -> int:
    return sum(
        len((yaml.safe_load(path.read_text()) or {}).get("unit_tests", []))
        for path in (DBT_PROJECT_DIR / "models").rglob("*.yml")
    )


def test_every_dbt_unit_test_passes(small_company: Settings) -> None:
    with warehouse.writer_lock(small_company):
        output = warehouse.unit_tests(small_company)
    done = re.search(r"PASS=(\d+) WARN=\d+ ERROR=(\d+) SKIP=(\d+)", output)
    assert done, output[-2000:]
    passed, errors, skipped = (int(group) for group in done.groups())
    assert errors == 0 and skipped == 0
    assert passed == declared_unit_tests() > 0


def test_the_scheduled_build_leaves_unit_tests_out(small_company: Settings) -> None:
    arguments = warehouse.build_arguments(small_company)
    assert arguments[arguments.index("--exclude-resource-type") + 1] == "unit_test"
