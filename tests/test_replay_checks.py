"""replay never changes a held value or its time: odd values, odd `at`, the same reference twice."""

import copy
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import text

from tests.processes import run_manage
from tests.test_replay_hostile import assert_goods_stored, good, line, replay_bytes, stored


def test_a_list_for_a_single_value_field_is_rejected_not_cut_to_its_first_item(
        app, engine, database_url, tmp_path):
    held = good(values={**good()["values"], "participant_id": ["P0042", "P9999"]})
    empty = good(values={**good()["values"], "notes": []})
    result = replay_bytes(database_url, tmp_path, line(held) + line(empty))
    err = result.stderr.decode()
    assert result.returncode == 1
    assert f"rejected: intake {held['submission_id']} (line 1): field 'participant_id': a list " \
           "is not a value for a single-value field" in err.splitlines()
    assert "(line 2): field 'notes': a list" in err
    assert err.splitlines()[-1].endswith("0 inserted, 0 already present, 2 rejected")
    assert stored(engine, [held, empty]) == {}


ODD_AT = {
    "not a time": ("Σάββατο 10:00 😀", "at 'Σάββατο 10:00 😀' is not a date-time"),
    "missing": (None, "at None is not a date-time"),
    "a number": (1763719200, "at 1763719200 is not a date-time"),
    "no UTC offset": ("2026-11-21T10:00:00", "has no UTC offset"),
    "before year 1 in UTC": ("0001-01-01T00:00:00+14:00", "outside years 1-9999"),
    "after year 9999 in UTC": ("9999-12-31T23:59:59-14:00", "outside years 1-9999"),
    "NUL and quotes": ('2026-11-21T10:00:00Z\x00"\\', "is not a date-time"),
}


@pytest.mark.parametrize("at, reason", ODD_AT.values(), ids=ODD_AT.keys())
def test_a_record_whose_time_cannot_be_kept_is_rejected(app, engine, database_url, tmp_path,
                                                        at, reason):
    held, fine = good(at=at), good()
    result = replay_bytes(database_url, tmp_path, line(held) + line(fine))
    err = result.stderr.decode()
    assert result.returncode == 1, err
    [named] = [e for e in err.splitlines() if e.startswith("rejected:")]
    assert named.startswith(f"rejected: intake {held['submission_id']} (line 1): ") and reason in named
    assert json.loads(result.stdout)["error"].startswith("replay: at ")
    assert_goods_stored(engine, [fine])
    assert stored(engine, [held]) == {}


def test_a_future_time_is_kept_as_held(app, engine, database_url, tmp_path):
    held = good(at="2999-01-01T00:00:00+02:00")
    result = replay_bytes(database_url, tmp_path, line(held))
    assert result.returncode == 0, result.stderr.decode()
    with engine.connect() as conn:
        at = conn.execute(text("SELECT submitted_at FROM intake")).scalar_one()
    assert at == datetime(2998, 12, 31, 22, tzinfo=timezone.utc)


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry run", "real run"])
def test_the_same_reference_twice_in_one_log_is_forecast_as_the_real_run_does(
        app, engine, database_url, tmp_path, dry_run):
    first = good()
    other = copy.deepcopy(first)
    other["values"]["age_years"], other["values"]["notes"] = 99, "άλλο 😀 \\ \""
    log = line(first) + line(other) + line(first)
    (tmp_path / "held.log").write_bytes(log)
    result = run_manage("replay", *(["--dry-run"] if dry_run else []), str(tmp_path / "held.log"),
                        text=False, DATABASE_URL=database_url)
    err = result.stderr.decode().splitlines()
    written = "would insert" if dry_run else "inserted"
    assert result.returncode == 1
    assert err[-1].endswith(f"3 records, 1 {written}, 1 already present, 0 rejected, 1 conflicts")
    assert err[1] == (f"conflict: intake {first['submission_id']} (line 2): already stored with "
                      "other values in: age_years, notes")
    printed = json.loads(result.stdout)
    assert printed["differences"]["age_years"] == {"stored": 36, "held": 99}
    assert len(stored(engine, [first])) == (0 if dry_run else 1)
