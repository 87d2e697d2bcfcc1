"""Import this module in a process that forks task processes, to warm them.

Importing it imports the pipeline and builds what Great Expectations needs for every
suite (``cxw.validation.warm_up``), once, in the parent: each forked task (an Airflow
LocalExecutor task, a benchmark stage) then validates its first batch as fast as its
later ones. It also imports dbt's runner, which ``cxw.warehouse.run_dbt`` imports on
first use (~1.7 CPU s on top of the pipeline's imports, paid by every build and by the
reports whenever the dbt docs are generated again). ``cxw`` starts its scheduler with
``CXW_PREIMPORT=cxw.pipeline,cxw.warm`` (``include/airflow_local_settings.py``).

Last, what was built is frozen out of the garbage collector (``gc.freeze``, what Python
recommends before forking workers): a forked task's full collections would otherwise walk
the ~370,000 inherited objects (~0.25 CPU s each) and copy every page they touch.
"""

from __future__ import annotations

import atexit
import gc

import dbt.cli.main  # noqa: F401 - what run_dbt imports in every build

import cxw.pipeline  # noqa: F401 - the modules every task imports
from cxw.validation import warm_up

SUITES = warm_up()

gc.collect()  # garbage now, not frozen with the rest
gc.freeze()
atexit.register(gc.unfreeze)  # let the parent's own exit free them as usual
