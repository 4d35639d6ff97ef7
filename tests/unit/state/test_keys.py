"""The names zunk8s stores under in Redis."""

import pytest

from zunk8s.state.keys import (
    channel_key,
    exec_session_key,
    group_key,
    leader_lock,
    lock_key,
    replicas_group,
    stream_id_for,
    terminal_size_key,
    token_key,
    value_key,
)


@pytest.mark.parametrize(
    ("built", "expected"),
    [
        # What a running installation has stored: these strings must not change.
        (lock_key("u1"), "zunk8s:lock:u1"),
        (lock_key(leader_lock("inst")), "zunk8s:lock:leader-inst"),
        (token_key("t"), "zunk8s:wstoken:t"),
        (value_key(exec_session_key("e1")), "zunk8s:value:exec:e1"),
        (value_key(terminal_size_key(stream_id_for(uuid="u1", exec_id=None))), "zunk8s:value:size:attach:u1"),
        (value_key(terminal_size_key(stream_id_for(uuid="u1", exec_id="e1"))), "zunk8s:value:size:exec:e1"),
        (channel_key(stream_id_for(uuid="u1", exec_id=None)), "zunk8s:chan:attach:u1"),
        (channel_key(stream_id_for(uuid="u1", exec_id="e1")), "zunk8s:chan:exec:e1"),
        (group_key(replicas_group("inst")), "zunk8s:group:replicas-inst"),
    ],
)
def test_stored_names_keep_their_meaning(built: str, expected: str) -> None:
    assert built == expected
