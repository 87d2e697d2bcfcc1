"""Process-group supervision shared by the local Airflow and the Celery cluster: real
processes (``sleep`` and small Python scripts), stopped as a whole."""

from __future__ import annotations

import sys
import time
import uuid
from pathlib import Path

import psutil
import pytest

from cxw.processes import Component, Supervisor, exited, free_port, port_is_free

MARKER = "CXW_TEST_SUPERVISOR_ID"
# Ends only on a second SIGTERM, as Airflow's LocalExecutor workers do.
STUBBORN = (
    "import signal, sys, time\n"
    "seen = []\n"
    "def handler(signum, frame):\n"
    "    seen.append(signum)\n"
    "    if len(seen) > 1: sys.exit(0)\n"
    "signal.signal(signal.SIGTERM, handler)\n"
    "print('ready', flush=True)\n"
    "while True: time.sleep(0.1)\n"
)
# Starts a child of its own that outlives it unless its group is stopped.
PARENT = (
    "import subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)'])\n"
    "print('ready', flush=True)\n"
    "time.sleep(600)\n"
)


class Sleepers(Supervisor):
    failure = TimeoutError

    def __init__(self, tmp_path: Path, scripts: dict[str, str], settle: float = 0) -> None:
        super().__init__(uuid.uuid4().hex, MARKER, start_timeout=30, stop_timeout=5)
        self.settle_seconds = settle
        env = {"PATH": "/usr/bin:/bin", MARKER: self.run_id}
        self.planned = [
            Component(name, [sys.executable, "-c", script], env, tmp_path / f"{name}.log")
            for name, script in scripts.items()
        ]

    def start(self) -> None:
        self.components = self.planned
        for component in self.components:
            component.start()
        self.wait_until(self.all_ready, time.monotonic() + self.start_timeout, "the sleepers")

    def all_ready(self) -> bool:
        return all("ready" in c.log_path.read_text() for c in self.components)


def test_every_process_and_child_is_stopped_on_exit(tmp_path: Path) -> None:
    with Sleepers(tmp_path, {"parent": PARENT, "stubborn": STUBBORN}, settle=2) as sleepers:
        started = sleepers.leftover_processes()
        assert len(started) == 3  # two components and the parent's child
        sleepers.ensure_alive()
    assert sleepers.leftover_processes() == []
    assert not any(psutil.pid_exists(p.pid) and p.status() != psutil.STATUS_ZOMBIE
                   for p in started)


def test_a_process_needing_two_sigterms_ends_without_sigkill(tmp_path: Path) -> None:
    with Sleepers(tmp_path, {"stubborn": STUBBORN}, settle=2) as sleepers:
        (component,) = sleepers.components
    # Exit status 0: its handler saw the second SIGTERM (SIGKILL would give -9).
    assert component.process.returncode == 0


def test_a_component_that_exits_is_named_with_its_log(tmp_path: Path) -> None:
    script = (
        "import time; print('ready', flush=True); time.sleep(3); print('boom', flush=True); "
        "raise SystemExit(3)"
    )
    with Sleepers(tmp_path, {"crasher": script, "parent": PARENT}) as sleepers:
        crasher = sleepers.components[0]
        crasher.process.wait(timeout=60)
        with pytest.raises(TimeoutError, match=r"(?s)crasher exited \(3\).*boom"):
            sleepers.ensure_alive()
        assert "parent" not in exited(sleepers.components)
    assert sleepers.leftover_processes() == []


def test_a_start_that_fails_stops_what_it_started(tmp_path: Path) -> None:
    script = "import sys; print('not yet', flush=True); sys.exit(1)"
    sleepers = Sleepers(tmp_path, {"parent": PARENT, "failing": script})
    with pytest.raises(TimeoutError, match="waiting for the sleepers"), sleepers:
        pytest.fail("started")
    assert sleepers.leftover_processes() == []


def test_free_ports_are_free() -> None:
    port = free_port()
    assert port_is_free(port)
