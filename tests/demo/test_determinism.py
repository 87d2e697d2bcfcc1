"""Same seed and parameters, same bytes; another seed, another shop."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

from cxw_demo.generate import generate

PARAMS = {"customers": 120, "start": "2026-03-01", "end": "2026-03-20"}


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_same_seed_same_bytes(tmp_path: Path):
    first = _digests(Path(generate(tmp_path / "a", seed=9, **PARAMS) and tmp_path / "a"))
    second = _digests(Path(generate(tmp_path / "b", seed=9, **PARAMS) and tmp_path / "b"))
    assert first == second
    assert any(name.startswith("ga4/") for name in first) and "shop.db" in first
    third = _digests(Path(generate(tmp_path / "c", seed=10, **PARAMS) and tmp_path / "c"))
    assert third["shop.db"] != first["shop.db"]


def test_tiny_is_fast_and_regenerating_replaces_old_files(tmp_path: Path):
    began = time.perf_counter()
    generate(tmp_path, customers=30, start="2026-01-01", end="2026-01-10", seed=1)
    elapsed = time.perf_counter() - began
    print(f"tiny (30 customers, 10 days): {elapsed:.2f} s")
    assert elapsed < 5  # well under a second on a laptop; generous for loaded CI machines
    generate(tmp_path, customers=30, start="2026-01-01", end="2026-01-03", seed=1)
    assert len(list((tmp_path / "ga4").glob("events_*"))) == 3
