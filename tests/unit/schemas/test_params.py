"""Scalar parameters: integers in ASCII digits only (#13 class 1) and signal names."""

import pytest

from tests.unit.badinput import NASTY_NUMBERS
from zunk8s.errors import InvalidValue, SchemaValidationError
from zunk8s.schemas.params import ascii_int, parse_non_negative_int, parse_signal


@pytest.mark.parametrize("value", [n for n in NASTY_NUMBERS if n])  # "" is unset, as in Zun
def test_query_integers_are_400(value: str) -> None:
    with pytest.raises(SchemaValidationError) as err:
        parse_non_negative_int("timeout", value)
    assert len(err.value.detail) < 300  # a 5,000-digit value is not echoed whole
    assert ascii_int(value) is None


def test_query_integers_accept_ascii_digits() -> None:
    assert parse_non_negative_int("timeout", "10") == 10
    assert parse_non_negative_int("timeout", 7) == 7
    assert ascii_int("0123") == 123


@pytest.mark.parametrize(
    ("value", "expected"),
    [(None, "KILL"), ("None", "KILL"), ("SIGKILL", "KILL"), ("kill", "KILL"), ("9", "KILL"), ("sigterm", "TERM"), ("15", "TERM"), ("HUP", "HUP"), ("SIGUSR1", "USR1")],
)
def test_signals(value: str | None, expected: str) -> None:
    assert parse_signal(value) == expected


def test_bad_signal() -> None:
    with pytest.raises(InvalidValue):
        parse_signal("SIGNOPE")
