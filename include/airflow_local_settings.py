"""Airflow's local settings hook (imported by every Airflow process at start-up).

One job: warm task processes. On Linux the LocalExecutor forks its workers from the
scheduler and every task process from a worker, so modules the scheduler has imported
are already loaded in every task. ``cxw`` starts its scheduler with
``CXW_PREIMPORT=cxw.pipeline,cxw.warm`` (comma-separated module names): each task then skips the
import of pandas, pyarrow, DuckDB, Great Expectations and the project's modules (tens of
seconds on a loaded machine). Nothing else in this file: it defines no policies.
"""

from __future__ import annotations

import importlib
import logging
import os

__all__: list[str] = []


def _preimport() -> None:
    for name in filter(None, os.environ.get("CXW_PREIMPORT", "").split(",")):
        try:
            importlib.import_module(name.strip())
        except Exception:  # a broken import must not take the scheduler down
            logging.getLogger(__name__).exception("CXW_PREIMPORT: could not import %s", name)


_preimport()
