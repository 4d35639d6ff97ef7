"""Zun's numbers as Kubernetes quantities, and Kubernetes quantities (as Nodes report them) read back."""

from decimal import Decimal

import pytest

from zunk8s.translate.quantities import cpu_quantity, memory_quantity, parse_quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2", Decimal(2)),
        ("1k", Decimal(1000)),  # kwok nodes' cpu
        ("1500m", Decimal("1.5")),
        ("24683652Ki", Decimal(24683652 * 1024)),
        ("1Ti", Decimal(2) ** 40),
        ("267847642337", Decimal(267847642337)),
        ("1e3", Decimal(1000)),
        ("1E", Decimal("1e18")),  # the exa suffix, not an exponent
        ("0.5Gi", Decimal(2) ** 29),
        ("20k", Decimal(20000)),
    ],
)
def test_parse_quantity(text: str, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("text", ["", "Ki", "1KiB", "1 Ki", "abc", None, 5, "1e", "--1"])
def test_parse_quantity_refuses(text: object) -> None:
    assert parse_quantity(text) is None


def test_round_trip_of_what_zunk8s_writes() -> None:
    assert parse_quantity(cpu_quantity(0.5)) == Decimal("0.5")
    assert parse_quantity(memory_quantity("512")) == Decimal(512 * 2**20)
