"""Heron (heronpy 0.20) topology files run unchanged; the topology context answers as Heron's."""

import subprocess
from collections import Counter

from helpers import TOPOLOGIES, heronpy_cli, subprocess_env

import heronpy.local
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.component.component_spec import GlobalStreamId
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping, Stream
from heronpy.api.topology import TopologyBuilder

CLASS_STYLE = TOPOLOGIES / "heron_word_count.py"
BUILDER_STYLE = TOPOLOGIES / "builder_word_count.py"


def submit(path, *args, timeout=90):
    return subprocess.run([*heronpy_cli(), "submit", "local", str(path), *args],
                          env=subprocess_env(), capture_output=True, text=True, timeout=timeout)


def test_class_style_file_runs_through_local_run():
    result = heronpy.local.run(CLASS_STYLE, timeout=60)  # a Path: os.PathLike is accepted
    assert result.plan.logical.name == "WordCount"
    assert result.plan.num_containers == 2
    assert result.plan.component_tasks == {"word_spout": [1, 2], "count_bolt": [3, 4]}
    counts = result.outputs("count_bolt")
    assert Counter({w: c for w, c, _ in counts}) == Counter(
        {w: 200 for w in ["hello", "bye", "good", "bad", "heron", "storm"]})
    assert len(counts) == 6  # each word counted by exactly one task
    audit = result.outputs("count_bolt", "audit")
    assert audit, "no count task received anything"
    for task, component, stream, source_tasks, ticks in audit:
        assert task in (3, 4)
        assert (component, stream) == ("word_spout", "default")
        assert set(source_tasks) <= {1, 2}
        assert ticks >= 0
    # both spout tasks fed the bolt: every word comes from both of them
    assert set().union(*(set(row[3]) for row in audit)) == {1, 2}
    assert result.metrics["word_spout"]["emitted"] == 1200
    assert result.metrics["count_bolt"]["executed"] == 1200
    bolt = result.plan.logical.components["count_bolt"]
    assert bolt.config == {"topology.tick.tuple.freq.secs": 1}
    assert result.plan.logical.config["topology.reliability.mode"] == "ATLEAST_ONCE"


def test_class_style_file_runs_through_the_cli():
    done = submit(CLASS_STYLE)
    assert done.returncode == 0, done.stderr
    assert "running topology 'WordCount' in 2 container(s)" in done.stderr
    assert "word_spout: executed 0, emitted 1200" in done.stdout
    assert "count_bolt: executed 1200, emitted" in done.stdout
    for word in ["hello", "bye", "good", "bad", "heron", "storm"]:
        assert f"default: ('{word}', 200, " in done.stdout


def test_builder_style_file_runs_through_local_run():
    result = heronpy.local.run(str(BUILDER_STYLE), timeout=60)
    assert result.plan.logical.name == "builder_word_count"
    assert result.plan.num_containers == 2
    expected = Counter(" ".join(["the quick brown fox", "jumps over the lazy dog",
                                 "the end"] * 50).split())
    counts = result.outputs("count")
    assert dict(counts) == expected
    assert len(counts) == len(expected)


def test_builder_style_file_runs_through_the_cli_with_arguments():
    done = submit(BUILDER_STYLE, "named_by_argv", "--config", "repeat=4", "--containers", "3")
    assert done.returncode == 0, done.stderr
    assert "running topology 'named_by_argv' in 3 container(s)" in done.stderr
    assert "lines: executed 0, emitted 12" in done.stdout
    assert "split: executed 12, emitted 44" in done.stdout
    assert "count: executed 44, emitted 9" in done.stdout
    assert "default: ('the', 12)" in done.stdout


def test_submit_reports_a_missing_file(tmp_path):
    done = submit(tmp_path / "missing.py", timeout=30)
    assert done.returncode == 2
    assert "no topology file" in done.stderr


class ProbeSpout(Spout):
    """Emits 0..19 (one task) and reports what its context says on stream "context"."""

    outputs = [Stream(["n"]), Stream(["task", "report"], name="context")]

    def initialize(self, config, context):
        self.numbers = iter(range(20))
        self.emit([context.get_task_id(), probe(config, context)], stream="context")

    def next_tuple(self):
        self.emit([next(self.numbers)])


def probe(config, context) -> dict:
    """What a component learns from its context, as plain (msgpack-able) data."""
    def sources(component):
        found = context.get_sources(component)
        if found is None:
            return None
        for key in found:
            assert isinstance(key, GlobalStreamId)
        return sorted([k.component_id, k.stream_id, g.kind, list(g.fields)]
                      for k, g in found.items())

    cluster = context.get_cluster_config()
    return {
        "task": context.get_task_id(),
        "component": context.get_component_id(),
        "topology": context.get_topology_name(),
        "shared": cluster.get("shared"),
        "topology_only": cluster.get("topology_only"),
        "bolt_only": cluster.get("bolt_only"),
        "stmgrs": cluster.get("topology.stmgrs"),
        "config_is_cluster_config": dict(config) == cluster,
        "spout_tasks": context.get_component_tasks("probe_spout"),
        "bolt_tasks": context.get_component_tasks("probe_bolt"),
        "unknown_tasks": context.get_component_tasks("nope"),
        "bolt_sources": sources("probe_bolt"),
        "spout_sources": sources("probe_spout"),
        "this_sources": sorted([k.component_id, k.stream_id]
                               for k in context.get_this_sources()),
        "unknown_sources": sources("nope"),
    }


def test_topology_context():
    class ProbeBolt(Bolt):  # defined here: shipped to its tasks by value
        outputs = [Stream(["task", "report"], name="context")]

        def initialize(self, config, context):
            self.report = probe(config, context)
            self.task_id = context.get_task_id()

        def process(self, tup):
            pass

        def end_of_stream(self):
            self.emit([self.task_id, self.report], stream="context")

    builder = TopologyBuilder("context_probe")
    spout = builder.add_spout("probe_spout", ProbeSpout, par=1)
    builder.add_bolt("probe_bolt", ProbeBolt, par=3, inputs={spout: Grouping.fields("n")},
                     config={"shared": "component", "bolt_only": True})
    builder.set_config({"topology.stmgrs": 2, "shared": "topology", "topology_only": 7})
    result = heronpy.local.run(builder, timeout=60)

    (spout_row,) = result.outputs("probe_spout", "context")
    bolt_rows = result.outputs("probe_bolt", "context")
    assert sorted(task for task, _ in bolt_rows) == [2, 3, 4]
    reports = {task: report for task, report in [spout_row, *bolt_rows]}
    bolt_sources = [["probe_spout", "default", "fields", ["n"]]]
    for task, report in reports.items():
        assert report["task"] == task
        assert report["topology"] == "context_probe"
        assert report["topology_only"] == 7  # topology config reaches every component
        assert report["stmgrs"] == 2
        assert report["config_is_cluster_config"] is True
        assert report["spout_tasks"] == [1]
        assert report["bolt_tasks"] == [2, 3, 4]
        assert report["unknown_tasks"] is None
        assert report["bolt_sources"] == bolt_sources
        assert report["spout_sources"] == []
        assert report["unknown_sources"] is None
    spout_report = reports[1]
    assert spout_report["component"] == "probe_spout"
    assert spout_report["shared"] == "topology"
    assert spout_report["bolt_only"] is None
    assert spout_report["this_sources"] == []
    for task in (2, 3, 4):
        report = reports[task]
        assert report["component"] == "probe_bolt"
        assert report["shared"] == "component"  # the component's config overrides
        assert report["bolt_only"] is True
        assert report["this_sources"] == [["probe_spout", "default"]]
