"""Build-time validation of topologies, round-robin packing, and ``heronpy explain``."""

import subprocess

import pytest
from helpers import REPO, WORD_COUNT_EXAMPLE, heronpy_cli, subprocess_env

from heronpy.api.bolt.bolt import Bolt
from heronpy.api.component.component_spec import GlobalStreamId
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import Topology, TopologyBuilder
from heronpy.topology.logical import InvalidTopologyError
from heronpy.topology.physical import PhysicalPlan


class WordSpout(Spout):
    outputs = ["word", "weight"]


class TwoStreamSpout(Spout):
    outputs = [Stream(["n"]), Stream(["n", "why"], name="errors")]


class PassBolt(Bolt):
    outputs = ["word"]


def builder_with_spout(spout_cls=WordSpout):
    builder = TopologyBuilder("plans")
    spout = builder.add_spout("words", spout_cls, par=2)
    return builder, spout


def test_a_valid_topology_builds():
    builder, spout = builder_with_spout()
    builder.add_bolt("count", PassBolt, par=3, inputs={spout: Grouping.fields("word")})
    plan = builder.build()
    assert list(plan.components) == ["words", "count"]
    assert plan.components["count"].parallelism == 3
    assert plan.components["words"].outputs == {"default": ("word", "weight")}
    (sub,) = plan.components["count"].inputs
    assert (sub.component, sub.stream, sub.grouping) == ("words", "default",
                                                         Grouping.fields("word"))
    assert plan.consumers("words", "default")[0][0].name == "count"


def test_unknown_upstream_component_by_name():
    builder, _ = builder_with_spout()
    builder.add_bolt("count", PassBolt, inputs={"ghost": Grouping.SHUFFLE})
    with pytest.raises(InvalidTopologyError, match=r"bolt 'count' subscribes to unknown "
                                                   r"component 'ghost'"):
        builder.build()


def test_upstream_spec_not_in_this_topology():
    other = TopologyBuilder("other")
    foreign = other.add_spout("elsewhere", WordSpout)
    builder, _ = builder_with_spout()
    builder.add_bolt("count", PassBolt, inputs={foreign: Grouping.SHUFFLE})
    with pytest.raises(InvalidTopologyError, match=r"'count'.*'elsewhere'.*not in the topology"):
        builder.build()


def test_subscribing_to_an_undeclared_stream():
    builder, spout = builder_with_spout(TwoStreamSpout)
    builder.add_bolt("audit", PassBolt, inputs={GlobalStreamId(spout, "warnings"): Grouping.ALL})
    with pytest.raises(InvalidTopologyError) as err:
        builder.build()
    message = str(err.value)
    assert "'audit'" in message and "'warnings'" in message and "'words'" in message
    assert "['default', 'errors']" in message  # what the upstream does declare


def test_subscribing_to_an_undeclared_stream_by_name():
    builder, _ = builder_with_spout()
    builder.add_bolt("audit", PassBolt, inputs=[GlobalStreamId("words", "nope")])
    with pytest.raises(InvalidTopologyError, match=r"bolt 'audit' subscribes to stream 'nope'"):
        builder.build()


def test_spec_getitem_rejects_an_undeclared_stream():
    # as in Heron, ``spec["stream"]`` checks the stream at once, with a ValueError
    _, spout = builder_with_spout()
    with pytest.raises(ValueError, match=r"'words' has no output stream 'nope'"):
        spout["nope"]
    assert spout["default"] == GlobalStreamId("words", "default")


def test_fields_grouping_on_a_missing_field():
    builder, spout = builder_with_spout()
    builder.add_bolt("count", PassBolt, inputs={spout: Grouping.fields("word", "colour")})
    with pytest.raises(InvalidTopologyError) as err:
        builder.build()
    message = str(err.value)
    assert "bolt 'count'" in message and "['colour']" in message and "'words'" in message


def test_fields_grouping_on_a_field_of_another_stream():
    builder, spout = builder_with_spout(TwoStreamSpout)
    builder.add_bolt("count", PassBolt, inputs={spout["default"]: Grouping.fields("why")})
    with pytest.raises(InvalidTopologyError, match=r"bolt 'count': fields grouping on \['why'\]"):
        builder.build()


@pytest.mark.parametrize("par", [0, -1, 1.5, "2", None, True], ids=repr)
def test_invalid_bolt_parallelism(par):
    builder, spout = builder_with_spout()
    builder.add_bolt("count", PassBolt, par=par, inputs=[spout])
    with pytest.raises(InvalidTopologyError, match=r"component 'count': parallelism must be"):
        builder.build()


@pytest.mark.parametrize("par", [0, -1, 2.5], ids=repr)
def test_invalid_spout_parallelism(par):
    builder = TopologyBuilder("plans")
    builder.add_spout("words", WordSpout, par=par)
    with pytest.raises(InvalidTopologyError, match=r"component 'words': parallelism must be"):
        builder.build()


def test_invalid_parallelism_fails_class_creation():
    with pytest.raises(InvalidTopologyError, match=r"component 'counter': parallelism must be"):
        class BadPar(Topology):
            source = WordSpout.spec(par=1)
            counter = PassBolt.spec(par=0, inputs=[source])


def test_cycle_among_bolts():
    builder, spout = builder_with_spout()
    builder.add_bolt("a", PassBolt, inputs={spout: Grouping.SHUFFLE, "b": Grouping.SHUFFLE})
    builder.add_bolt("b", PassBolt, inputs={"a": Grouping.SHUFFLE})
    with pytest.raises(InvalidTopologyError) as err:
        builder.build()
    message = str(err.value)
    assert "cycle" in message
    assert "'a'" in message or "'b'" in message
    assert "a <- b <- a" in message or "b <- a <- b" in message


def test_self_loop_is_a_cycle():
    builder, spout = builder_with_spout()
    builder.add_bolt("echo", PassBolt, inputs={spout: Grouping.SHUFFLE, "echo": Grouping.SHUFFLE})
    with pytest.raises(InvalidTopologyError, match=r"component 'echo' is part of a cycle"):
        builder.build()


def test_duplicate_component_name_in_builder():
    builder, _ = builder_with_spout()
    with pytest.raises(InvalidTopologyError, match=r"component 'words': duplicate component name"):
        builder.add_bolt("words", PassBolt, inputs=["words"])


def test_duplicate_component_name_in_class_topology():
    with pytest.raises(InvalidTopologyError, match=r"component 'twin': duplicate component name"):
        class Twins(Topology):
            first = WordSpout.spec(name="twin")
            second = PassBolt.spec(name="twin", inputs=[first])


def test_the_same_spec_under_two_attributes_is_one_component():
    class Aliased(Topology):
        words = WordSpout.spec(par=2)
        alias = words
        count = PassBolt.spec(inputs=[words])

    assert list(Aliased.logical_plan.components) == ["words", "count"]


def test_no_spout():
    builder = TopologyBuilder("spoutless")
    builder.add_bolt("a", PassBolt, inputs=["b"])
    builder.add_bolt("b", PassBolt, inputs=["a"])
    with pytest.raises(InvalidTopologyError, match=r"topology 'spoutless' has no spout"):
        builder.build()


def test_empty_topology_has_no_spout():
    with pytest.raises(InvalidTopologyError, match=r"topology 'empty' has no spout"):
        TopologyBuilder("empty").build()


@pytest.mark.parametrize("inputs", [None, [], {}], ids=repr)
def test_bolt_without_inputs(inputs):
    builder, _ = builder_with_spout()
    builder.add_bolt("orphan", PassBolt, inputs=inputs)
    with pytest.raises(InvalidTopologyError, match=r"bolt 'orphan' has no inputs"):
        builder.build()


def test_bolt_without_inputs_fails_class_creation():
    with pytest.raises(InvalidTopologyError, match=r"bolt 'lonely' has no inputs"):
        class Lonely(Topology):
            words = WordSpout.spec()
            lonely = PassBolt.spec()


@pytest.mark.parametrize("grouping", ["shuffle", None, Grouping, 3], ids=repr)
def test_invalid_grouping_object(grouping):
    builder, spout = builder_with_spout()
    builder.add_bolt("count", PassBolt, inputs={spout: grouping})
    with pytest.raises(InvalidTopologyError,
                       match=r"bolt 'count': input from 'words' has an unknown grouping"):
        builder.build()


def test_invalid_grouping_arguments_fail_at_once():
    with pytest.raises(ValueError, match="at least one field"):
        Grouping.fields()
    with pytest.raises(TypeError, match="field names must be strings"):
        Grouping.fields("word", 3)
    with pytest.raises(TypeError, match="ICustomGrouping"):
        Grouping.custom(object())


def test_invalid_input_key():
    builder, _ = builder_with_spout()
    builder.add_bolt("count", PassBolt, inputs={42: Grouping.SHUFFLE})
    with pytest.raises(InvalidTopologyError, match=r"bolt 'count': 42 is not a valid input"):
        builder.build()


def test_spout_without_outputs():
    class Silent(Spout):
        pass

    builder = TopologyBuilder("silent")
    builder.add_spout("quiet", Silent)
    with pytest.raises(InvalidTopologyError, match=r"spout 'quiet' declares no outputs"):
        builder.build()


def test_build_and_submit_validates_before_submitting():
    builder, _ = builder_with_spout()
    builder.add_bolt("count", PassBolt, inputs={"ghost": Grouping.SHUFFLE})
    with pytest.raises(InvalidTopologyError, match=r"'count'.*'ghost'"):
        builder.build_and_submit()


def test_build_and_submit_outside_a_submission_says_how_to_run():
    builder, spout = builder_with_spout()
    builder.add_bolt("count", PassBolt, inputs=[spout])
    with pytest.raises(RuntimeError, match="heronpy submit local"):
        builder.build_and_submit()


# -- packing ---------------------------------------------------------------------------------

def three_component_plan(containers):
    builder = TopologyBuilder("packing")
    words = builder.add_spout("words", WordSpout, par=2)
    split = builder.add_bolt("split", PassBolt, par=3, inputs=[words])
    builder.add_bolt("count", PassBolt, par=4, inputs={split: Grouping.fields("word")})
    builder.set_config({"topology.stmgrs": containers})
    return builder.build()


@pytest.mark.parametrize("containers", [1, 2, 3, 5])
def test_round_robin_packing(containers):
    physical = PhysicalPlan.pack(three_component_plan(containers))
    assert physical.num_containers == containers
    assert sorted(physical.tasks) == list(range(1, 10))
    assert physical.component_tasks == {"words": [1, 2], "split": [3, 4, 5],
                                        "count": [6, 7, 8, 9]}
    for task_id, info in physical.tasks.items():
        assert info.task_id == task_id
        assert info.container == (task_id - 1) % containers
        assert info.index == physical.component_tasks[info.component].index(task_id)
    for container in range(containers):
        assert physical.container_tasks(container) == [
            t for t in range(1, 10) if (t - 1) % containers == container]
    assert physical.upstream_tasks("count") == [3, 4, 5]
    assert physical.upstream_tasks("split") == [1, 2]
    assert len(set(physical.stream_ids.values())) == len(physical.stream_ids) == 3


def test_pack_with_an_explicit_container_count():
    physical = PhysicalPlan.pack(three_component_plan(1), 4)
    assert physical.num_containers == 4
    assert [physical.tasks[t].container for t in range(1, 10)] == [0, 1, 2, 3, 0, 1, 2, 3, 0]
    assert "9 tasks in 4 containers" in physical.describe()


@pytest.mark.parametrize("containers", [0, -2, "two", 1.5])
def test_invalid_container_count(containers):
    builder, spout = builder_with_spout()
    builder.add_bolt("count", PassBolt, inputs=[spout])
    builder.set_config({"topology.stmgrs": containers})
    with pytest.raises(InvalidTopologyError, match=r"topology.stmgrs must be an integer >= 1"):
        builder.build()


# -- heronpy explain -------------------------------------------------------------------------

def test_explain_prints_both_plans():
    done = subprocess.run([*heronpy_cli(), "explain", str(WORD_COUNT_EXAMPLE)], cwd=REPO,
                          env=subprocess_env(), capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "logical plan of topology 'word_count'" in out
    for line in ("spout sentences x1", "bolt split x2", "bolt count x3",
                 "<- sentences:default  shuffle", "<- split:default  fields(word)"):
        assert line in out
    assert "physical plan: 6 tasks in 2 containers" in out
    assert "container 0: stream manager + sentences[0]=task 1, split[1]=task 3, " \
           "count[1]=task 5" in out
    assert "container 1: stream manager + split[0]=task 2, count[0]=task 4, " \
           "count[2]=task 6" in out
    assert "container 2" not in out


def test_explain_with_more_containers():
    done = subprocess.run([*heronpy_cli(), "explain", str(WORD_COUNT_EXAMPLE), "--containers",
                           "3"], env=subprocess_env(), capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert "6 tasks in 3 containers" in done.stdout
    assert "container 2: stream manager + split[1]=task 3, count[2]=task 6" in done.stdout


def test_explain_reports_an_invalid_topology(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text(
        "from heronpy.api.bolt.bolt import Bolt\n"
        "from heronpy.api.spout.spout import Spout\n"
        "from heronpy.api.topology import TopologyBuilder\n"
        "class S(Spout):\n    outputs = ['n']\n"
        "class B(Bolt):\n    outputs = ['n']\n"
        "builder = TopologyBuilder('bad')\n"
        "spout = builder.add_spout('s', S)\n"
        "builder.add_bolt('b', B, inputs={spout: 'shuffle'})\n"
        "builder.add_bolt('s', B, inputs=[spout])\n"
        "if __name__ == '__main__':\n    builder.build_and_submit()\n")
    done = subprocess.run([*heronpy_cli(), "explain", str(bad)], env=subprocess_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "heronpy: component 's': duplicate component name"
    bad.write_text(bad.read_text().replace("builder.add_bolt('s', B, inputs=[spout])\n", ""))
    done = subprocess.run([*heronpy_cli(), "explain", str(bad)], env=subprocess_env(),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "bolt 'b': input from 's' has an unknown grouping 'shuffle'" in done.stderr
    assert "Traceback" not in done.stderr
