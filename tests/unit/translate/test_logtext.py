from datetime import datetime, timezone

import pytest

from zunk8s.translate.logtext import (
    LOG_ARCHIVE_LIMIT,
    LogsQuery,
    filter_archived,
    join_logs,
    keep_newest,
    log_archive_name,
    tail_lines,
)

NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=timezone.utc)
SAVED = (
    b"2026-11-27T11:00:00.000000001Z first run\n"
    b"2026-11-27T11:59:00.123456789Z second\n"
    b"not a timestamp line\n"
    b"2026-11-27T11:59:59.999999999Z last\n"
)


@pytest.mark.parametrize(
    ("data", "tail", "expected"),
    [
        (b"a\nb\nc\n", None, b"a\nb\nc\n"),
        (b"a\nb\nc\n", 0, b""),
        (b"a\nb\nc\n", 2, b"b\nc\n"),
        (b"a\nb\nc\n", 10, b"a\nb\nc\n"),
        (b"a\nb\nc", 1, b"c"),  # a last line without its newline
        (b"", 3, b""),
        (b"a\r\nb\r\n", 1, b"b\r\n"),
    ],
)
def test_tail_lines(data: bytes, tail: int | None, expected: bytes) -> None:
    assert tail_lines(data, tail) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (LogsQuery(tail=None, since_seconds=None, timestamps=True), SAVED),
        (
            LogsQuery(tail=None, since_seconds=None, timestamps=False),
            b"first run\nsecond\na timestamp line\nlast\n",  # the first word goes, stamp or not
        ),
        (
            LogsQuery(tail=None, since_seconds=120, timestamps=True),
            b"2026-11-27T11:59:00.123456789Z second\nnot a timestamp line\n2026-11-27T11:59:59.999999999Z last\n",
        ),
        (LogsQuery(tail=1, since_seconds=None, timestamps=False), b"last\n"),
        (LogsQuery(tail=2, since_seconds=1, timestamps=True), b"not a timestamp line\n2026-11-27T11:59:59.999999999Z last\n"),
        (LogsQuery(tail=0, since_seconds=None, timestamps=True), b""),
    ],
)
def test_filter_archived(query: LogsQuery, expected: bytes) -> None:
    assert filter_archived(SAVED, query, now=NOW) == expected


def test_keep_newest_starts_at_a_line() -> None:
    data = b"".join(b"line %03d\n" % i for i in range(20))
    kept = keep_newest(data, 50)
    assert len(kept) <= 50 and kept.startswith(b"line ") and data.endswith(kept)
    assert keep_newest(b"short\n", 50) == b"short\n"
    assert keep_newest(b"x" * 100, 10) == b"x" * 10  # no newline to cut at
    assert LOG_ARCHIVE_LIMIT < 1024 * 1024


@pytest.mark.parametrize(
    ("earlier", "later", "expected"),
    [
        (b"a\n", b"b\n", b"a\nb\n"),
        (b"a", b"b\n", b"a\nb\n"),
        (b"a", b"", b"a"),
        (b"a\n", b"", b"a\n"),
    ],
)
def test_join_logs(earlier: bytes, later: bytes, expected: bytes) -> None:
    assert join_logs(earlier, later) == expected


def test_log_archive_name() -> None:
    assert log_archive_name("0f0e") == "zun-logs-0f0e"


def test_archived_logs_filtering() -> None:
    data = (
        b"2026-11-27T11:00:00.123456789Z first\n"
        b"2026-11-27T11:59:00.000000001Z second\n"
        b"2026-11-27T11:59:30.5Z third\n"
    )
    now = datetime(2026, 11, 27, 12, 0, 0, tzinfo=timezone.utc)
    assert filter_archived(data, LogsQuery(tail=None, since_seconds=None, timestamps=False), now=now) == b"first\nsecond\nthird\n"
    assert filter_archived(data, LogsQuery(tail=1, since_seconds=None, timestamps=False), now=now) == b"third\n"
    assert filter_archived(data, LogsQuery(tail=None, since_seconds=120, timestamps=False), now=now) == b"second\nthird\n"
    assert filter_archived(data, LogsQuery(tail=0, since_seconds=None, timestamps=True), now=now) == b""
    assert filter_archived(data, LogsQuery(tail=1, since_seconds=None, timestamps=True), now=now).startswith(b"2026-11-27T11:59:30.5Z")


def test_saved_logs_keep_the_newest_whole_lines() -> None:
    data = b"".join(b"line %d\n" % i for i in range(100))
    kept = keep_newest(data, 50)
    assert kept.endswith(b"line 99\n") and kept.startswith(b"line ") and len(kept) <= 50
    assert keep_newest(b"short\n", 50) == b"short\n"
