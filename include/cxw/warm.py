"""Import this module in a process that forks task processes, to warm them.

Importing it imports the pipeline and builds what Great Expectations needs for every
suite (``cxw.validation.warm_up``), once, in the parent: each forked task (an Airflow
LocalExecutor task, a benchmark stage) then validates its first batch as fast as its
later ones. It also imports dbt's runner, which ``cxw.warehouse.run_dbt`` imports on
first use (~1.7 CPU s on top of the pipeline's imports, paid by every build and by the
reports whenever the dbt docs are generated again). ``cxw`` starts its scheduler with
``CXW_PREIMPORT=cxw.pipeline,cxw.warm`` (``include/airflow_local_settings.py``).
"""

from __future__ import annotations

import dbt.cli.main  # noqa: F401 - what run_dbt imports in every build

import cxw.pipeline  # noqa: F401 - the modules every task imports
from cxw.validation import warm_up

SUITES = warm_up()
