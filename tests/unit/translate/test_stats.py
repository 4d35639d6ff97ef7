import json
from typing import Any

import pytest

from zunk8s.translate import stats
from zunk8s.translate.stats import Measured

MIB = 2**20
# Measured on the local cluster: a shell holding a 30 MB string, calling another container.
M = Measured(cpu=4_954_189, system=500_000_000, memory=30_826_496, inactive_file=212_992, limit=256 * MIB,
             read=0, write=0, rx=22_531, tx=17_408)


def pod(**annotations: str) -> dict[str, Any]:
    return {"metadata": {"name": "zun-x-1", "namespace": "zun-p", "annotations": annotations}}


def test_zun_view_has_zuns_seven_keys_in_its_order_and_types() -> None:
    view = stats.zun_view("web", M)
    assert list(view) == ["CONTAINER", "CPU %", "MEM USAGE(MiB)", "MEM LIMIT(MiB)", "MEM %", "BLOCK I/O(B)", "NET I/O(B)"]
    assert view["CONTAINER"] == "web"
    assert view["CPU %"] == pytest.approx(0.9908378)  # the container's share of the whole host's CPU time
    assert view["MEM USAGE(MiB)"] == (30_826_496 - 212_992) / MIB  # usage less the inactive file cache
    assert view["MEM LIMIT(MiB)"] == 256.0
    assert view["MEM %"] == pytest.approx(view["MEM USAGE(MiB)"] / 256 * 100)
    assert view["BLOCK I/O(B)"] == "0/0" and view["NET I/O(B)"] == "22531/17408"
    assert all(isinstance(view[k], float) for k in ("CPU %", "MEM USAGE(MiB)", "MEM LIMIT(MiB)", "MEM %"))
    json.dumps(view)


def test_zun_view_never_divides_by_zero() -> None:
    view = stats.zun_view("w", Measured(cpu=0, system=0, memory=0, inactive_file=0, limit=0, read=1, write=2, rx=3, tx=4))
    assert view["CPU %"] == 0.0 and view["MEM %"] == 0.0
    assert view["BLOCK I/O(B)"] == "1/2" and view["NET I/O(B)"] == "3/4"


def test_ask_and_answer_round_trip_on_the_pod() -> None:
    assert stats.wanted(pod()) is None
    assert stats.wanted(pod(**{stats.WANT: "req-1"})) == "req-1"
    value = stats.done_value("req-1", M)
    assert "\n" not in value and " " not in value  # one compact line
    done = stats.answer(pod(**{stats.DONE: value}))
    assert done == stats.Answer(request="req-1", measured=M)


def test_an_error_answer_is_one_bounded_line() -> None:
    value = stats.error_value("req-2", "cannot read /proc/7/cgroup:\n  No such file" + "x" * 1000)
    done = stats.answer(pod(**{stats.DONE: value}))
    assert done is not None and done.request == "req-2" and done.measured is None
    assert done.error is not None and done.error.startswith("cannot read /proc/7/cgroup: No such file") and len(done.error) == 400


@pytest.mark.parametrize("value", ["", "not json", "[]", '{"cpu": 1}', '{"request": 5}'])
def test_no_answer_from_what_is_not_one(value: str) -> None:
    assert stats.answer(pod(**{stats.DONE: value})) is None


def test_an_answer_missing_numbers_is_an_error() -> None:
    done = stats.answer(pod(**{stats.DONE: '{"request":"req-3","cpu":1}'}))
    assert done is not None and done.measured is None and "unreadable answer" in (done.error or "")


def test_which_answers_are_fresh() -> None:
    mine = stats.Answer(request="req-2", measured=M)
    older = stats.Answer(request="req-0", measured=M)
    later = stats.Answer(request="req-3", measured=M)  # another caller's ask, written after mine
    assert stats.fresh(mine, request="req-2", before="req-0")
    assert not stats.fresh(older, request="req-2", before="req-0")  # on the Pod before the ask
    assert stats.fresh(later, request="req-2", before="req-0")
    assert stats.fresh(older, request="req-2", before=None)
    assert not stats.fresh(None, request="req-2", before=None)
