"""Word count end to end: exact counts, and every word counted by the task its key maps to."""

import random
from collections import Counter

from helpers import WORD_COUNT_EXAMPLE

import heronpy.local
from heronpy.api.bolt.bolt import Bolt
from heronpy.api.spout.spout import Spout
from heronpy.api.stream import Grouping
from heronpy.api.topology import TopologyBuilder
from heronpy.instance.routing import fields_index

SEED = 20240611
SENTENCES = 12_500
WORDS_PER_SENTENCE = 8  # 100,000 words


def make_sentences(seed: int, count: int) -> list[str]:
    """Deterministic input: Zipf-like word frequencies over a 2,000-word vocabulary, so a few
    words are very frequent and many are rare."""
    rng = random.Random(seed)
    vocabulary = [f"w{i}" for i in range(2000)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    return [" ".join(rng.choices(vocabulary, weights, k=WORDS_PER_SENTENCE))
            for _ in range(count)]


class SentenceSpout(Spout):
    """Emits its share of the sentences: those whose index modulo the parallelism is its own
    task index."""

    outputs = ["sentence"]

    def initialize(self, config, context):
        sentences = make_sentences(config["seed"], config["sentences"])
        tasks = context.get_component_tasks(context.get_component_id())
        self.it = iter(sentences[tasks.index(context.get_task_id())::len(tasks)])

    def next_tuple(self):
        self.emit([next(self.it)])


class SplitBolt(Bolt):
    outputs = ["word"]

    def process(self, tup):
        for word in tup.values[0].split():
            self.emit([word])


class CountBolt(Bolt):
    outputs = ["word", "count", "task"]

    def initialize(self, config, context):
        self.task_id = context.get_task_id()
        self.counts = Counter()

    def process(self, tup):
        self.counts[tup.values[0]] += 1

    def end_of_stream(self):
        for word, count in self.counts.items():
            self.emit([word, count, self.task_id])


def test_word_count_is_exact_and_partitioned_by_fields_index():
    builder = TopologyBuilder("word_count_100k")
    spout = builder.add_spout("sentences", SentenceSpout, par=2)
    split = builder.add_bolt("split", SplitBolt, par=2, inputs={spout: Grouping.SHUFFLE})
    builder.add_bolt("count", CountBolt, par=3, inputs={split: Grouping.fields("word")})
    builder.set_config({"topology.stmgrs": 2, "seed": SEED, "sentences": SENTENCES})

    result = heronpy.local.run(builder, timeout=120)

    expected = Counter(word for sentence in make_sentences(SEED, SENTENCES)
                       for word in sentence.split())
    assert sum(expected.values()) == SENTENCES * WORDS_PER_SENTENCE >= 100_000
    rows = result.outputs("count")
    words = [word for word, _, _ in rows]
    assert len(words) == len(set(words)), "a word was counted by more than one task"
    assert {word: count for word, count, _ in rows} == expected

    count_tasks = result.plan.component_tasks["count"]
    assert len(count_tasks) == 3
    for word, _, task in rows:
        assert task == count_tasks[fields_index(word, 3)], word
    assert {task for _, _, task in rows} == set(count_tasks)
    # the count tasks live in both containers
    assert {result.plan.tasks[t].container for t in count_tasks} == {0, 1}

    metrics = result.metrics
    assert metrics["sentences"]["emitted"] == SENTENCES
    assert metrics["split"]["executed"] == SENTENCES
    assert metrics["split"]["emitted"] == metrics["count"]["executed"] == sum(expected.values())
    assert metrics["count"]["emitted"] == len(expected)
    # each count task executed exactly the words that hash to it
    for task in count_tasks:
        executed = metrics["count"]["tasks"][task]["executed"]
        assert executed == sum(c for w, c, t in rows if t == task)
    # both spout tasks and both split tasks took part
    for component in ("sentences", "split"):
        assert all(m["emitted"] > 0 for m in metrics[component]["tasks"].values())


def test_the_word_count_example_file():
    sentences = 3000
    result = heronpy.local.run(str(WORD_COUNT_EXAMPLE), config={"sentences": sentences},
                               timeout=60)
    assert result.plan.num_containers == 2  # from the file's config
    assert result.plan.logical.name == "word_count"
    rows = result.outputs("count")
    counts = dict(rows)
    assert len(counts) == len(rows) == 16  # every word once, by one task
    total = sum(counts.values())
    assert total == result.metrics["count"]["executed"] == 8 * sentences
    assert result.metrics["split"]["executed"] == result.metrics["sentences"]["emitted"] \
        == sentences
