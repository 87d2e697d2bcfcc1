from __future__ import annotations

from pathlib import Path

from cxw import warehouse
from cxw.settings import Settings


def test_declared_sources_cover_every_source_folder() -> None:
    declared = warehouse.declared_sources()
    assert ("orders", "orders") in declared
    assert ("helpdesk", "ticket_events") in declared
    assert ("surveys", "responses") in declared


def test_sources_without_landed_batches_are_reported(cxw_home: Path) -> None:
    settings = Settings.from_env()
    landed = settings.lake_dir / "orders" / "orders"
    landed.mkdir(parents=True)
    (landed / "20260101T000000_20260102T000000.parquet").write_bytes(b"")
    missing = warehouse.unlanded_sources(settings)
    assert ("orders", "orders") not in missing
    assert ("orders", "customers") in missing
    assert ("helpdesk", "tickets") in missing
