from datetime import datetime, timezone
from typing import Any

import pytest

from tests.unit.badinput import HUGE, NASTY_NUMBERS
from zunk8s.errors import InvalidValue, SchemaValidationError
from zunk8s.schemas.queries import (
    FILTERS,
    MAX_LIMIT,
    MAX_TERMINAL_SIDE,
    SORT_KEYS,
    HostQuery,
    ListQuery,
    check_exec_id,
    parse_host_query,
    parse_list_query,
    parse_size,
    since_seconds,
)

NOW = datetime.fromtimestamp(1_000_000, timezone.utc)

# --- since ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("raw", "now", "expected"),
    [
        (None, NOW, None),
        ("None", NOW, None),
        ("", NOW, None),
        ("999990", NOW, 11),
        ("1000000", NOW, 1),
        ("9" * 12, NOW, 1),  # the future: Kubernetes needs >= 1
        (999990, NOW, 11),  # a JSON number, as a body may carry it
        ("2026-01-01 00:00:00,5", datetime(2026, 1, 1, 0, 0, 10, tzinfo=timezone.utc), 10),
        ("2026-01-01 00:00:00,000", datetime(2026, 1, 1, 0, 1, 0, tzinfo=timezone.utc), 61),
    ],
)
def test_since_seconds(raw: Any, now: datetime, expected: int | None) -> None:
    assert since_seconds(raw, now=now) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "-5",
        "1.5",
        "9" * 13,
        "999\n",  # `$` alone would accept the newline
        "٣",  # not ASCII digits
        "2026-01-01T00:00:00,000",
        "2026-01-01 00:00:00.000",
        "2026-01-01 00:00:00,1234",
        "2026-99-01 00:00:00,000",  # the pattern holds, the month does not
    ],
)
def test_since_is_400(raw: str) -> None:
    with pytest.raises(SchemaValidationError) as info:
        since_seconds(raw, now=NOW)
    assert info.value.detail.startswith(f"Invalid input for query parameters 'since'. Value: '{raw}'.")


# --- resize ---------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("params", "size"),
    [
        ({"w": "80", "h": "24"}, (80, 24)),
        ({"w": 80, "h": "24"}, (80, 24)),
        ({"w": "1", "h": str(MAX_TERMINAL_SIDE)}, (1, MAX_TERMINAL_SIDE)),
    ],
)
def test_parse_size(params: dict[str, Any], size: tuple[int, int]) -> None:
    assert parse_size(params) == size


@pytest.mark.parametrize(
    ("params", "key"),
    [
        ({"h": "24"}, "w"),
        ({"w": "0", "h": "24"}, "w"),
        ({"w": "80", "h": str(MAX_TERMINAL_SIDE + 1)}, "h"),
        ({"w": "-1", "h": "24"}, "w"),
        ({"w": "²", "h": "24"}, "w"),
        ({"w": True, "h": "24"}, "w"),  # bool is an int to Python, not to Zun's schema
        ({"w": 80.0, "h": "24"}, "w"),
        ({"w": "80", "h": "9" * 11}, "h"),
    ],
)
def test_parse_size_refuses(params: dict[str, Any], key: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_size(params)
    assert info.value.detail.startswith(f"Invalid input for query parameters '{key}'.")
    assert info.value.detail.endswith(f"It must be a whole number from 1 to {MAX_TERMINAL_SIDE}.")


def test_check_exec_id() -> None:
    assert check_exec_id("a" * 64) == "a" * 64
    assert check_exec_id("0123456789abcdef" * 4) == "0123456789abcdef" * 4


@pytest.mark.parametrize("exec_id", [None, "", "a" * 63, "a" * 65, "A" * 64, "g" * 64, ["a" * 64], 12])
def test_check_exec_id_refuses(exec_id: Any) -> None:
    with pytest.raises(InvalidValue) as info:
        check_exec_id(exec_id)
    assert info.value.detail.endswith("It must be 64 hex digits.")


# --- list -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("params", "query"),
    [
        ({}, ListQuery(limit=MAX_LIMIT, marker=None, sort_key="id", sort_dir="asc", filters={})),
        (
            {"limit": "5", "marker": "m", "sort_key": "name", "sort_dir": "desc"},
            ListQuery(limit=5, marker="m", sort_key="name", sort_dir="desc", filters={}),
        ),
        ({"limit": "None", "marker": ""}, ListQuery(limit=MAX_LIMIT, marker=None, sort_key="id", sort_dir="asc", filters={})),
        ({"limit": "5000"}, ListQuery(limit=MAX_LIMIT, marker=None, sort_key="id", sort_dir="asc", filters={})),
        (
            {"name": "web", "status": "Running", "image": "None", "other": "x"},
            ListQuery(limit=MAX_LIMIT, marker=None, sort_key="id", sort_dir="asc", filters={"name": "web", "status": "Running"}),
        ),
    ],
)
def test_parse_list_query(params: dict[str, str], query: ListQuery) -> None:
    assert parse_list_query(params) == query


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"limit": "0"}, "Limit must be positive integer"),
        ({"limit": "-1"}, "Limit must be positive integer"),
        ({"limit": " 5"}, "Limit must be positive integer"),
        ({"limit": "9" * 11}, "Limit must be positive integer"),
        ({"sort_dir": "up"}, "Invalid sort direction: up. Acceptable values are 'asc' or 'desc'"),
    ],
)
def test_parse_list_query_refuses(params: dict[str, str], detail: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_list_query(params)
    assert info.value.detail == detail


def test_sort_keys_and_filters() -> None:
    assert {"id", "status", "task_state", "host", "name", "created_at"} <= SORT_KEYS
    assert set(FILTERS) <= SORT_KEYS | {"auto_remove"}
    with pytest.raises(InvalidValue) as info:
        parse_list_query({"sort_key": "nope"})
    assert info.value.detail.startswith('The sort_key value "nope" is invalid. Must be one of: ')


# --- #13 regressions: bad numbers, exec ids, since and limits ---

@pytest.mark.parametrize("w", [*NASTY_NUMBERS, "0", "70000", None, 1.5, True])
def test_terminal_sizes(w: Any) -> None:
    with pytest.raises(InvalidValue):
        parse_size({"w": w, "h": "24"})
    assert parse_size({"w": "80", "h": 24}) == (80, 24)


def test_exec_id_must_be_a_string_of_hex() -> None:
    with pytest.raises(InvalidValue):
        check_exec_id(["a" * 64])
    assert check_exec_id("a" * 64) == "a" * 64


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, timezone.utc)


@pytest.mark.parametrize(
    "since",
    ["123\n", "x2020-01-01 00:00:00,000", "2020-99-99 99:99:99,999", "2020-01-01 00:00:00,000x", HUGE, "²", "-5", "1.5"],
)
def test_since_nasty_values_are_400(since: str) -> None:
    with pytest.raises(SchemaValidationError):
        since_seconds(since, now=_at(1_000_000.0))


def test_since_values() -> None:
    assert since_seconds("999990", now=_at(1_000_000.0)) == 11
    assert since_seconds("2026-01-01 00:00:00,5", now=datetime(2026, 1, 1, 0, 0, 10, tzinfo=timezone.utc)) == 10
    assert since_seconds(None, now=_at(0)) is None
    assert since_seconds("9" * 12, now=_at(0)) == 1  # the future: Kubernetes needs >= 1


@pytest.mark.parametrize("limit", [" 5", "٣", "+5", "0", "-1", HUGE, "5\n", "1.0"])
def test_list_limits(limit: str) -> None:
    with pytest.raises(InvalidValue):
        parse_list_query({"limit": limit})
    assert parse_list_query({"limit": "5"}).limit == 5


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "-1"}, {"limit": "x"}, {"sort_key": "nope"}, {"sort_dir": "up"}])
def test_list_bad_params(params: dict[str, str]) -> None:
    with pytest.raises(InvalidValue):
        parse_list_query(params)


# --- hosts ----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("params", "query"),
    [
        ({}, HostQuery(limit=MAX_LIMIT, marker=None, sort_key="hostname", sort_dir="asc")),
        (
            {"limit": "2", "marker": "m", "sort_key": "cpus", "sort_dir": "desc", "other": "ignored"},
            HostQuery(limit=2, marker="m", sort_key="cpus", sort_dir="desc"),
        ),
        ({"limit": "5000", "marker": ""}, HostQuery(limit=MAX_LIMIT, marker=None, sort_key="hostname", sort_dir="asc")),
    ],
)
def test_parse_host_query(params: dict[str, str], query: HostQuery) -> None:
    assert parse_host_query(params) == query


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"limit": "0"}, "Limit must be positive integer"),
        ({"limit": "x"}, "Limit must be positive integer"),
        ({"sort_dir": "up"}, "Invalid sort direction: up. Acceptable values are 'asc' or 'desc'"),
    ],
)
def test_parse_host_query_refuses(params: dict[str, str], detail: str) -> None:
    with pytest.raises(InvalidValue) as info:
        parse_host_query(params)
    assert info.value.detail == detail
