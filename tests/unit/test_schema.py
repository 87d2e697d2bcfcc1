from __future__ import annotations

import pandas as pd

from cxw.schema import PARSE_ERRORS, coerce


def test_coerce_types_columns_and_keeps_extra_fields() -> None:
    raw = pd.DataFrame(
        {
            "id": ["1", "2"],
            "total": ["10.50", "0"],
            "placed_at": ["2026-01-01 10:00:00", "2026-01-02T11:30:00Z"],
            "opt_in": ["1", "false"],
            "unknown_field": ["kept", "as sent"],
        }
    )
    typed = coerce(raw, {"id": "int", "total": "money", "placed_at": "timestamp", "opt_in": "bool"})
    assert typed["id"].tolist() == [1, 2]
    assert typed["total"].tolist() == [10.5, 0.0]
    assert str(typed["placed_at"].dtype) == "datetime64[us, UTC]"
    assert typed["placed_at"].iloc[1] == pd.Timestamp("2026-01-02 11:30", tz="UTC")
    assert typed["opt_in"].tolist() == [True, False]
    assert typed["unknown_field"].tolist() == ["kept", "as sent"]
    assert typed[PARSE_ERRORS].isna().all()


def test_unparseable_values_are_reported_not_silently_nulled() -> None:
    raw = pd.DataFrame({"id": ["1", "two", None], "total": ["5", "5", "abc"]})
    typed = coerce(raw, {"id": "int", "total": "money"})
    errors = typed[PARSE_ERRORS].tolist()
    assert pd.isna(errors[0])
    assert errors[1] == "id='two'"
    assert errors[2] == "total='abc'"
    assert pd.isna(typed["id"].iloc[2]), "a missing value is null, not a parse error"


def test_missing_required_column_is_left_for_the_suite_to_report() -> None:
    typed = coerce(pd.DataFrame({"id": ["1"]}), {"id": "int", "email": "str"})
    assert "email" not in typed.columns


def test_an_integer_past_int64_is_a_parse_error_not_a_failed_batch() -> None:
    # A survey score of 99999999999999999999 used to make astype("Int64") raise, failing
    # the whole run instead of naming the record.
    raw = pd.DataFrame({"score": ["99999999999999999999", "1e30", "18446744073709551615",
                                  "123456789", "-3"]})
    typed = coerce(raw, {"score": "int"})
    assert typed[PARSE_ERRORS].tolist()[:3] == [
        "score='99999999999999999999'", "score='1e30'", "score='18446744073709551615'"
    ]
    assert typed["score"].tolist()[3:] == [123456789, -3]
    assert typed[PARSE_ERRORS].iloc[3:].isna().all()
