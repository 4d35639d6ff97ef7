"""The websocket bridge's pure parts: UTF-8 framing for text clients and the Origin check."""

import pytest

from zunk8s.wsproxy.bridge import Utf8Framer, origin_allowed


def test_utf8_framer_never_splits_a_character() -> None:
    text = "héllo wörld ✓".encode()
    framer = Utf8Framer()
    out = b"".join(framer.feed(text[i : i + 1]) for i in range(len(text))) + framer.flush()
    assert out == text
    f2 = Utf8Framer()
    first = f2.feed(b"a\xc3")
    assert first == b"a"
    assert f2.feed(b"\xa9") == "é".encode()
    assert Utf8Framer().feed(b"\xff\xfeok") == "\ufffd\ufffdok".encode()


@pytest.mark.parametrize(
    ("origin", "host", "ok"),
    [(None, "h:9517", True), ("http://h:1234", "h:9517", True), ("http://evil", "h:9517", False), ("null", "h", False)],
)
def test_origin(origin: str | None, host: str, ok: bool) -> None:
    assert origin_allowed(origin, host) is ok
