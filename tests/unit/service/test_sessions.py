"""Sessions over the in-process store (the same semantics as Redis'; tests/unit/state/)."""

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.unit.service.fakeactions import CALLER, RecordingLog
from zunk8s.errors import InvalidValue, NoInteractiveFlag
from zunk8s.records import Record, RecordStatus
from zunk8s.service.registry import Entry
from zunk8s.service.sessions import Sessions
from zunk8s.state.keys import exec_session_key, stream_id_for, terminal_size_key
from zunk8s.state.memory import MemoryStore

WS = "ws://zunk8s:9517/v1/ws"


def _entry(*, interactive: bool = True) -> Entry:
    record = Record.model_validate(
        {
            "uuid": "u-1",
            "name": "c",
            "project_id": "p",
            "user_id": "u",
            "image": "i",
            "interactive": interactive,
            "created_at": "2026-11-27 00:00:00.000000",
        }
    )
    status = RecordStatus(status="Running", pod="pod-1")
    return Entry(record=record, status=status, namespace="ns", uid="x", resource_version="1", has_status=True)


async def test_attach_url_mints_a_single_use_token() -> None:
    store = MemoryStore()
    log = RecordingLog()
    url = await Sessions(store, token_ttl=60, actions=log).attach_url(CALLER, _entry(), ws_base=WS)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(WS + "?") and query["uuid"] == ["u-1"]
    token = query["token"][0]
    assert await store.take_token(token) == {"kind": "attach", "uuid": "u-1", "namespace": "ns"}
    assert await store.take_token(token) is None
    with pytest.raises(NoInteractiveFlag):
        await Sessions(store, token_ttl=60, actions=log).attach_url(CALLER, _entry(interactive=False), ws_base=WS)
    # Logged once minted; a refused attach is no action (Zun checks before it logs).
    assert log.actions() == [("container_attach", False)]


async def test_exec_session_and_its_resize() -> None:
    store = MemoryStore()
    log = RecordingLog()
    sessions = Sessions(store, token_ttl=60, actions=log)
    session = await sessions.create_exec(CALLER, _entry(), '"sh" "-c" "echo hi"', ws_base=WS)
    assert len(session.exec_id) == 64
    stored = await store.get_value(exec_session_key(session.exec_id))
    assert stored is not None and stored["command"] == ["sh", "-c", "echo hi"] and stored["uuid"] == "u-1"
    token = parse_qs(urlsplit(session.proxy_url).query)["token"][0]
    assert await store.take_token(token) == stored

    stream = stream_id_for(uuid="u-1", exec_id=session.exec_id)
    async with store.subscribe(stream) as queue:
        await sessions.resize(CALLER, _entry(), width=80, height=24, exec_id=session.exec_id)
        assert queue.get_nowait() == {"w": 80, "h": 24}
    assert await store.get_value(terminal_size_key(stream)) == {"w": 80, "h": 24}
    # execute_resize is no action of Zun's log.
    assert log.actions() == [("exec_cmd", False)]


async def test_resize_of_an_unknown_exec_is_400() -> None:
    with pytest.raises(InvalidValue, match="no such exec instance: " + "a" * 64):
        await Sessions(MemoryStore(), token_ttl=60, actions=RecordingLog()).resize(
            CALLER, _entry(), width=80, height=24, exec_id="a" * 64
        )


async def test_attach_resize_is_remembered() -> None:
    store = MemoryStore()
    log = RecordingLog()
    await Sessions(store, token_ttl=60, actions=log).resize(CALLER, _entry(), width=100, height=40, exec_id=None)
    assert await store.get_value(terminal_size_key(stream_id_for(uuid="u-1", exec_id=None))) == {"w": 100, "h": 40}
    assert log.actions() == []  # a terminal's size is no action of the log
