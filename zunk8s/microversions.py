"""Zun's ``OpenStack-API-Version: container X.Y`` rules (zun/api/controllers/versions.py).

No header means 1.1 (the minimum, not the maximum); ``latest`` means the maximum; anything
malformed or out of range is a 406.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from zunk8s.errors import NotAcceptable

SERVICE = "container"
HEADER = "OpenStack-API-Version"


class APIVersion(NamedTuple):
    major: int
    minor: int

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


# ASCII digits, bounded: str.isdigit() takes '²' (int() refuses it) and int() refuses > 4,300 digits.
_VERSION_RE = re.compile(r"([0-9]{1,9})\.([0-9]{1,9})")

MIN_VERSION = APIVersion(1, 1)
MAX_VERSION = APIVersion(1, 40)


def _range() -> str:
    return f"[{SERVICE} {MIN_VERSION}, {SERVICE} {MAX_VERSION}]"


def parse_header(value: str | None) -> APIVersion:
    """Return the requested version, or raise NotAcceptable exactly where Zun does."""
    if value is None:
        return MIN_VERSION
    tokens = value.split()
    if len(tokens) != 2 or tokens[0] != SERVICE:
        raise NotAcceptable("Invalid service type for OpenStack-API-Version header")
    raw = tokens[1]
    if raw.lower() == "latest":
        return MAX_VERSION
    match = _VERSION_RE.fullmatch(raw)
    if match is None:
        raise NotAcceptable("Invalid value for OpenStack-API-Version header")
    version = APIVersion(int(match[1]), int(match[2]))
    if version.major != MAX_VERSION.major:
        raise NotAcceptable(
            f"Mutually exclusive versions requested. Version {version} requested but not "
            f"supported by this service. The supported version range is: {_range()}."
        )
    if not MIN_VERSION <= version <= MAX_VERSION:
        raise NotAcceptable(
            f"Version {version} was requested but the minor version is not supported by this "
            f"service. The supported version range is: {_range()}."
        )
    return version


def raw_requested(value: str | None) -> str:
    """The version to echo back: Zun echoes the request even when it is out of range."""
    if value is None:
        return str(MIN_VERSION)
    tokens = value.split()
    if len(tokens) == 2 and tokens[1].lower() == "latest":
        return str(MAX_VERSION)
    return tokens[-1] if tokens else str(MIN_VERSION)


def not_in_version(version: APIVersion) -> NotAcceptable:
    """The 406 for an endpoint that does not exist at the requested version."""
    return NotAcceptable(
        f"Version {version} was requested but the requested API is not supported for this version."
    )


def at_least(version: APIVersion, minimum: tuple[int, int]) -> bool:
    return version >= APIVersion(*minimum)
