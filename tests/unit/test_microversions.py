import pytest

from tests.unit.badinput import HUGE, NASTY_NUMBERS
from zunk8s import microversions as mv
from zunk8s.errors import NotAcceptable


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, (1, 1)),
        ("container 1.40", (1, 40)),
        ("container 1.1", (1, 1)),
        ("container latest", (1, 40)),
        ("container LATEST", (1, 40)),
        ("container 1.20", (1, 20)),
    ],
)
def test_parse_ok(header: str | None, expected: tuple[int, int]) -> None:
    assert mv.parse_header(header) == expected


@pytest.mark.parametrize(
    ("header", "fragment"),
    [
        ("compute 1.2", "Invalid service type"),
        ("container", "Invalid service type"),
        ("container 1", "Invalid value"),
        ("container 1.x", "Invalid value"),
        ("container 1.41", "Version 1.41 was requested but the minor version is not supported"),
        ("container 1.0", "minor version is not supported"),
        ("container 2.0", "Mutually exclusive versions requested"),
    ],
)
def test_parse_refused(header: str, fragment: str) -> None:
    with pytest.raises(NotAcceptable) as info:
        mv.parse_header(header)
    assert fragment in info.value.detail
    assert info.value.status == 406


def test_echo_keeps_out_of_range_request() -> None:
    assert mv.raw_requested("container 1.41") == "1.41"
    assert mv.raw_requested(None) == "1.1"
    assert mv.raw_requested("container latest") == "1.40"


# --- #13 class 1: numbers in the version header ---

# (A header value cannot hold a newline; split() drops the other whitespace, as Zun's does.)
@pytest.mark.parametrize(
    "header", [f"container 1.{n}" for n in NASTY_NUMBERS if n.strip() == n] + ["container ².1", f"container {HUGE}.1"]
)
def test_version_header_numbers_are_406(header: str) -> None:
    with pytest.raises(NotAcceptable):
        mv.parse_header(header)
