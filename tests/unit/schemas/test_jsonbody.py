"""JSON request bodies: what json.loads would take but Zun refuses (#13 classes 3 and 4)."""

import pytest

from zunk8s.errors import SchemaValidationError
from zunk8s.schemas.jsonbody import loads_json


@pytest.mark.parametrize(
    "raw",
    [b"[" * 2000, b'{"a":' * 2000, b"NaN", b'{"cpu": NaN}', b'{"cpu": Infinity}', b'{"cpu": -Infinity}', b"\xff\xfe", b"{", b"1" * 5000],
)
def test_bad_json_is_400(raw: bytes) -> None:
    with pytest.raises(SchemaValidationError):
        loads_json(raw)
