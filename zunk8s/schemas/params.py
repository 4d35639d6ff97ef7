"""Parsing of Zun query parameters and scalar body values.

python-zunclient sends ``str()`` of Python values, so booleans arrive as ``True``/``False``
and unset values as the literal ``None`` (zunclient.md §3.4). Zun's two boolean flavours are
reproduced from ``zun/api/validation/parameter_types.py``.
"""

from __future__ import annotations

import re
import signal as pysignal
from collections.abc import Mapping
from typing import Any

from zunk8s.errors import InvalidValue, SchemaValidationError

_STRICT_TRUE = {"true", "True"}
_STRICT_FALSE = {"false", "False"}
_EXT_TRUE = {"True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes"}
_EXT_FALSE = {"False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"}


# ASCII digits only, and few of them: str.isdigit() accepts '²' (which int() refuses) and int()
# refuses more than 4,300 digits; both must be a 400, never a 500.
MAX_DIGITS = 10
_DIGITS = re.compile(r"[0-9]{1,%d}" % MAX_DIGITS)


def ascii_int(text: str) -> int | None:
    """The value of ``text`` if it is 1-10 ASCII digits, else None."""
    return int(text) if _DIGITS.fullmatch(text) else None


def unset(value: object) -> bool:
    return value is None or value == "None" or value == ""


def parse_bool(name: str, value: object, *, extended: bool, default: bool) -> bool:
    """Zun's ``boolean`` (strict) and ``boolean_extended`` parameter types."""
    if unset(value):
        return default
    if isinstance(value, bool):
        return value
    true_set, false_set = (_EXT_TRUE, _EXT_FALSE) if extended else (_STRICT_TRUE, _STRICT_FALSE)
    if isinstance(value, str):
        if value in true_set:
            return True
        if value in false_set:
            return False
    raise SchemaValidationError(
        f"Invalid input for query parameters '{name}'. Value: '{shown(value)}'. "
        f"It is not one of {sorted(true_set | false_set)}"
    )


def parse_non_negative_int(name: str, value: object, *, minimum: int = 0) -> int | None:
    """Digits-only integers (Zun's ``non_negative_integer`` / ``positive_integer``)."""
    if unset(value):
        return None
    if isinstance(value, bool):
        raise SchemaValidationError(f"Invalid input for query parameters '{name}'. Value: '{shown(value)}'.")
    parsed = ascii_int(value) if isinstance(value, str) else None
    if isinstance(value, int) and abs(value) < 10**MAX_DIGITS:
        number = value
    elif parsed is not None:
        number = parsed
    else:
        raise SchemaValidationError(
            f"Invalid input for query parameters '{name}'. Value: '{shown(value)}'. "
            f"It must be a whole number of at most {MAX_DIGITS} ASCII digits."
        )
    if number < minimum:
        raise SchemaValidationError(
            f"Invalid input for query parameters '{name}'. Value: '{shown(value)}'. "
            f"{number} is less than the minimum of {minimum}"
        )
    return number


def shown(value: object, limit: int = 64) -> str:
    """A value as echoed in an error detail: bounded, so a huge input is not sent back whole."""
    text = str(value)
    return text if len(text) <= limit else text[:limit] + "..."


def reject_unknown(params: Mapping[str, Any], allowed: set[str]) -> None:
    """Zun's query schemas set additionalProperties: false."""
    extra = sorted(k for k in params if k not in allowed)
    if extra:
        listed = ", ".join(repr(shown(k)) for k in extra)
        verb = "were" if len(extra) > 1 else "was"
        raise SchemaValidationError(f"Additional properties are not allowed ({listed} {verb} unexpected)")


def reject_unknown_list_params(params: Mapping[str, Any], allowed: set[str]) -> None:
    """The list endpoint words it differently (InvalidValue, 'Unknown parameters: foo')."""
    extra = sorted(k for k in params if k not in allowed)
    if extra:
        raise InvalidValue(f"Unknown parameters: {', '.join(shown(k) for k in extra)}")


# Signals that end a container; other signals are delivered into it.
TERMINATING_SIGNALS = ("KILL", "TERM")


def parse_signal(value: str | None) -> str:
    """Zun accepts SIGKILL, KILL, sigkill, kill and 9 (Python's signal.Signals on Linux);
    unset means KILL, Docker's default. Returns the name without SIG."""
    if unset(value):
        return "KILL"
    for sig in pysignal.Signals:
        short = sig.name[3:] if sig.name.startswith("SIG") else sig.name
        if value in {sig.name, short, sig.name.lower(), short.lower(), str(int(sig))}:
            return short
    raise InvalidValue(f"Invalid input for query parameters 'signal'. Value: '{shown(value)}'. Not a valid signal.")
