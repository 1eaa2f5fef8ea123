"""heronpy update: a running topology is rescaled; the keyed state of its stateful bolts is
split again by key, so word counts stay exact across 2 -> 4 -> 3 tasks, in every reliability
mode. What cannot be rescaled is refused before anything stops."""

import pytest
from helpers import wait_until
from stateful_words import EXPECTED, counted, topology

import heronpy.api.api_constants as constants
import heronpy.local
from heronpy.instance.routing import fields_index
from heronpy.topology.logical import InvalidTopologyError


def component_tasks(run, component: str) -> list[int]:
    return sorted(t for t, info in run.status()["tasks"].items()
                  if info["component"] == component)


@pytest.mark.parametrize("mode", [constants.TopologyReliabilityMode.ATMOST_ONCE,
                                  constants.TopologyReliabilityMode.EFFECTIVELY_ONCE])
def test_update_rescales_keyed_state_and_keeps_word_counts_exact(mode):
    with heronpy.local.start(topology(mode)) as run:
        wait_until(lambda: counted(run) > 2000, 30, "words to be counted")
        before = component_tasks(run, "count")
        run.update({"count": 4})
        after = component_tasks(run, "count")
        assert len(after) == 4 and after[:2] == before  # the first two keep their task ids
        wait_until(lambda: counted(run) > 2000, 30, "words to be counted after the update")
        run.update({"count": 3, "relay": 1})
        assert component_tasks(run, "count") == after[:3]
        assert len(component_tasks(run, "relay")) == 1
        result = run.result(timeout=90)
    rows = result.outputs("count")
    words = [word for word, *_ in rows]
    assert len(words) == len(set(words))  # each word in one task only
    assert {word: count for word, count, *_ in rows} == EXPECTED
    assert {tasks for *_, tasks in rows} == {3}
    assert all(index == fields_index(word, 3) for word, _, index, _ in rows)


def test_an_update_that_cannot_be_done_is_refused_and_the_topology_goes_on():
    with heronpy.local.start(topology(constants.TopologyReliabilityMode.ATMOST_ONCE)) as run:
        wait_until(lambda: counted(run) > 0, 30, "words to be counted")
        with pytest.raises(InvalidTopologyError, match="component 'words': a stateful spout"):
            run.update({"words": 2})
        with pytest.raises(InvalidTopologyError, match="no component 'counts'"):
            run.update({"counts": 2})
        result = run.result(timeout=90)
    assert {word: count for word, count, *_ in result.outputs("count")} == EXPECTED
