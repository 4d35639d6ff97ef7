import math
from datetime import datetime, timedelta, timezone

import pytest

from zunk8s.clock import (
    epoch_to_rfc3339,
    kube_now,
    kube_time,
    kube_timestamp,
    log_time,
    now_utc,
    parse_since_time,
    parse_zun_time,
    seconds_since_kube_time,
    seconds_since_zun_time,
    zun_iso_timestamp,
    zun_timestamp,
)

UTC = timezone.utc
NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


def test_now_utc_is_aware_utc() -> None:
    assert now_utc().tzinfo == UTC


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC), "2026-11-27 12:00:00.000000"),
        (datetime(2026, 11, 27, 12, 0, 0, 123456, tzinfo=UTC), "2026-11-27 12:00:00.123456"),
        # Another zone is written in UTC, without the zone (Zun's str(datetime)).
        (datetime(2026, 11, 27, 13, 0, 0, tzinfo=timezone(timedelta(hours=1))), "2026-11-27 12:00:00.000000"),
    ],
)
def test_zun_timestamp_round_trip(moment: datetime, text: str) -> None:
    assert zun_timestamp(moment) == text
    assert parse_zun_time(text) == moment


@pytest.mark.parametrize("text", [None, "", "2026-11-27T12:00:00Z", "2026-11-27 12:00:00", "yesterday"])
def test_parse_zun_time_refuses(text: str | None) -> None:
    assert parse_zun_time(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27T12:00:00Z", NOW),
        ("2026-11-27T12:00:00.250000Z", NOW.replace(microsecond=250000)),
        ("2026-11-27T13:00:00+01:00", NOW),
        (None, None),
        ("", None),
        ("not a time", None),
    ],
)
def test_kube_time(text: str | None, expected: datetime | None) -> None:
    assert kube_time(text) == expected


def test_kube_timestamp() -> None:
    assert kube_timestamp(NOW) == "2026-11-27T12:00:00Z"
    assert kube_timestamp(NOW.replace(microsecond=7)) == "2026-11-27T12:00:00.000007Z"
    assert kube_time(kube_now()) is not None


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-11-27T12:00:00.123456789Z", NOW.replace(microsecond=123456)),  # nanoseconds: truncated
        ("2026-11-27T12:00:00.5Z", NOW.replace(microsecond=500000)),
        ("2026-11-27T12:00:00Z", NOW),
        ("hello", None),
        ("", None),
    ],
)
def test_log_time(stamp: str, expected: datetime | None) -> None:
    assert log_time(stamp) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-27 12:00:00,5", NOW.replace(microsecond=500000)),
        ("2026-11-27 12:00:00,123", NOW.replace(microsecond=123000)),
        ("2026-99-27 12:00:00,000", None),
        ("2026-11-27 12:00:00.000", None),
    ],
)
def test_parse_since_time(text: str, expected: datetime | None) -> None:
    assert parse_since_time(text) == expected


def test_epoch_to_rfc3339() -> None:
    assert epoch_to_rfc3339(1_500_000_000) == "2017-07-14T02:40:00Z"
    assert epoch_to_rfc3339(0) == "1970-01-01T00:00:00Z"


def test_seconds_since() -> None:
    assert seconds_since_kube_time("2026-11-27T11:59:00Z", NOW) == 60.0
    assert seconds_since_zun_time("2026-11-27 11:59:30.000000", NOW) == 30.0
    for bad in (None, "", "garbage"):
        assert seconds_since_kube_time(bad, NOW) == math.inf
        assert seconds_since_zun_time(bad, NOW) == math.inf


def test_zun_iso_timestamp_is_zuns_strtime() -> None:
    # The service list's times (zun/common/utils.py strtime): a T, microseconds, no zone.
    assert zun_iso_timestamp(datetime(2017, 2, 1, 3, 25, 7, tzinfo=UTC)) == "2017-02-01T03:25:07.000000"
    assert zun_iso_timestamp(datetime(2017, 2, 1, 4, 25, 7, 5, tzinfo=timezone(timedelta(hours=1)))) == "2017-02-01T03:25:07.000005"
