"""protobuf's wire format, the little of it the agent needs to speak containerd's API by hand
(zunk8s/node/containerd.py): strings, integers, embedded messages, repeated fields and
``map<string, string>``. Generating and shipping stubs for a dozen calls would weigh more than this.
"""

from __future__ import annotations

from collections.abc import Mapping

Value = bytes | int


class WireError(ValueError):
    """A message that does not parse (truncated, or a wire type protobuf 3 does not use)."""


def varint(n: int) -> bytes:
    if n < 0:
        n += 1 << 64  # int64 fields: two's complement in ten bytes
    out = bytearray()
    while True:
        byte, n = n & 0x7F, n >> 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def message_field(number: int, data: bytes) -> bytes:
    """A length-delimited field: a string, bytes or an embedded message."""
    return varint(number << 3 | 2) + varint(len(data)) + data


def string_field(number: int, text: str) -> bytes:
    # proto3 leaves a default (empty) scalar out of the message.
    return message_field(number, text.encode()) if text else b""


def int_field(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value) if value else b""


def bool_field(number: int, value: bool) -> bytes:
    return int_field(number, 1 if value else 0)


def map_field(number: int, entries: Mapping[str, str]) -> bytes:
    """``map<string, string>``: one embedded message {key = 1, value = 2} per entry."""
    return b"".join(message_field(number, string_field(1, k) + string_field(2, v)) for k, v in entries.items())


def read_varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(data):
            raise WireError("truncated message")
        byte = data[i]
        value |= (byte & 0x7F) << shift
        i, shift = i + 1, shift + 7
        if not byte & 0x80:
            return value, i


def fields(data: bytes) -> dict[int, list[Value]]:
    """Every top-level field of a message, by number, in order (repeated fields keep them all)."""
    out: dict[int, list[Value]] = {}
    i = 0
    while i < len(data):
        key, i = read_varint(data, i)
        number, kind = key >> 3, key & 7
        value: Value
        if kind == 0:
            value, i = read_varint(data, i)
        elif kind == 2:
            size, i = read_varint(data, i)
            if i + size > len(data):
                raise WireError("truncated message")
            value, i = data[i:i + size], i + size
        elif kind == 1:
            value, i = data[i:i + 8], i + 8
        elif kind == 5:
            value, i = data[i:i + 4], i + 4
        else:
            raise WireError(f"wire type {kind} in a protobuf 3 message")
        out.setdefault(number, []).append(value)
    return out


def last_bytes(parsed: Mapping[int, list[Value]], number: int) -> bytes:
    """The last occurrence of a length-delimited field (protobuf's rule for a non-repeated one)."""
    values = [v for v in parsed.get(number, []) if isinstance(v, bytes)]
    return values[-1] if values else b""


def last_int(parsed: Mapping[int, list[Value]], number: int) -> int:
    values = [v for v in parsed.get(number, []) if isinstance(v, int)]
    return values[-1] if values else 0


def last_str(parsed: Mapping[int, list[Value]], number: int) -> str:
    return last_bytes(parsed, number).decode(errors="replace")
