"""Strict JSON for request bodies: every failure is a Zun-shaped 400, never a 500.

Python's parser accepts ``NaN``/``Infinity`` (Kubernetes then refuses the object we build)
and recurses once per nesting level (2,000 ``[`` exhaust the stack).
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from zunk8s.errors import SchemaValidationError


def _no_constants(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a JSON number")


def loads_json(raw: bytes | str) -> Any:
    try:
        return json.loads(raw, parse_constant=_no_constants)
    except RecursionError:
        raise SchemaValidationError("The request body is nested too deeply.") from None
    except ValueError as e:  # also invalid UTF-8 and integers past Python's digit limit
        raise SchemaValidationError(f"The request body is not valid JSON: {str(e)[:200]}") from None
