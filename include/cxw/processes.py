"""Long-running processes started each in its own process group and stopped as a whole:
what the local Airflow (``local_airflow.LocalAirflow``) and the Celery cluster
(``cluster.Cluster``) supervise.

``Supervisor`` is the shared part: ``with`` it, ``start`` runs (and on any failure what it
started is stopped again); on exit every process group, every descendant and every process
carrying the supervisor's marker variable gets SIGTERM, then SIGKILL after a bounded wait
(psutil's ``wait_procs``).
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


@dataclass
class Component:
    """One long-running command, its output appended to ``log_path``."""

    name: str
    command: list[str]
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen | None = None

    def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as output:
            # Its own session and process group: stopped as a whole, untouched by Ctrl-C.
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        program, *args = self.command
        log.info("started %s (pid %d): %s", self.name, self.process.pid,
                 " ".join([Path(program).name, *args]))

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None


def log_tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return f"({path} does not exist)"
    text = path.read_text(errors="replace").splitlines()
    return "\n".join(text[-lines:])


def exited(components: Iterable[Component], lines: int = 40) -> str:
    """Which components have exited, each with its exit code and its log's tail."""
    return "\n".join(
        f"--- {c.name} exited ({c.process.returncode}); {c.log_path}:\n"
        f"{log_tail(c.log_path, lines)}"
        for c in components
        if not c.alive
    )


def marked_processes(run_id: str, marker: str) -> list[Any]:
    """Live (non-zombie) processes on this machine that carry ``marker=run_id``."""
    import psutil

    found = []
    for process in psutil.process_iter(["pid"]):
        try:
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            if process.environ().get(marker) == run_id:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def stop_processes(
    components: Iterable[Component],
    run_id: str,
    timeout: float,
    marker: str,
    settle_seconds: float = 0,
) -> None:
    """SIGTERM every component's process group (and every process carrying the marker),
    wait up to ``timeout`` seconds, then SIGKILL whatever is left.

    With ``settle_seconds`` the groups first get one SIGTERM alone and that long to end:
    processes that take the first SIGTERM as "stop gracefully" and a second one as "now"
    (Airflow's LocalExecutor workers) then get both.
    """
    import psutil

    components = [c for c in components if c.process is not None]

    def signal_groups(signum: int) -> None:
        for component in components:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(component.process.pid, signum)

    if settle_seconds:
        signal_groups(signal.SIGTERM)
        deadline = time.monotonic() + settle_seconds
        while any(c.alive for c in components) and time.monotonic() < deadline:
            time.sleep(0.2)
    targets: dict[int, psutil.Process] = {}
    for component in components:
        with contextlib.suppress(psutil.NoSuchProcess):
            root = psutil.Process(component.process.pid)
            for process in [root, *root.children(recursive=True)]:
                targets[process.pid] = process
    for process in marked_processes(run_id, marker):
        targets.setdefault(process.pid, process)

    def signal_all(signum: int) -> None:
        signal_groups(signum)
        for process in targets.values():
            with contextlib.suppress(psutil.NoSuchProcess):
                process.send_signal(signum)

    signal_all(signal.SIGTERM)
    _, alive = psutil.wait_procs(list(targets.values()), timeout=timeout)
    if alive:
        log.warning("SIGKILL after %.0fs: %s", timeout, sorted(p.pid for p in alive))
        signal_all(signal.SIGKILL)
        psutil.wait_procs(alive, timeout=10)
    for component in components:
        with contextlib.suppress(subprocess.TimeoutExpired):
            component.process.wait(timeout=5)
    # Anything started meanwhile (a task a worker forked during shutdown).
    for process in marked_processes(run_id, marker):
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()


class Supervisor:
    """Components started by ``start`` (each in its own process group, each carrying
    ``marker=run_id`` in its environment) and stopped together: ``with`` a supervisor,
    everything it started is stopped on exit, and when ``start`` fails."""

    # What a dead component or a start-up time-out raises.
    failure: type[Exception] = RuntimeError
    # How long the process groups get after a first SIGTERM alone (see stop_processes).
    settle_seconds: float = 0

    def __init__(self, run_id: str, marker: str, start_timeout: float, stop_timeout: float):
        self.run_id = run_id
        self.marker = marker
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.components: list[Component] = []

    def __enter__(self) -> Any:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        stop_processes(
            self.components, self.run_id, self.stop_timeout, self.marker, self.settle_seconds
        )

    def ensure_alive(self, lines: int = 20) -> None:
        """Raise ``failure`` naming every component that has exited, with its log's tail."""
        dead = exited(self.components, lines)
        if dead:
            raise self.failure(dead)

    def wait_until(self, ready: Callable[[], bool], deadline: float, what: str) -> None:
        """Poll ``ready`` until it holds; raise ``failure`` if a component exits first or
        ``deadline`` (monotonic) passes."""
        while True:
            dead = exited(self.components)
            if dead:
                raise self.failure(f"waiting for {what}:\n{dead}")
            if ready():
                return
            if time.monotonic() > deadline:
                raise self.failure(
                    f"{what} not ready after {self.start_timeout:.0f}s:\n"
                    + "\n".join(f"--- {c.name}, {c.log_path}:\n{log_tail(c.log_path, 15)}"
                                for c in self.components)
                )
            time.sleep(1)

    def leftover_processes(self) -> list[Any]:
        """Processes it started (or they started) that are still alive."""
        return marked_processes(self.run_id, self.marker)
