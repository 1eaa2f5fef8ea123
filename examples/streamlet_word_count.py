"""Word count with the Streamlet API (Heron 0.20's functional API).

    heronpy submit local examples/streamlet_word_count.py
    python examples/streamlet_word_count.py     # runs it the same way and prints the counts

sentences -> flat_map(split) -> map(word -> (word, 1)) -> reduce_by_key_and_window: the
count of each word in each 10-second (processing time) window, as
``(KeyedWindow(word, Window(start, end)), count)``. The source is bounded: when its
sentences run out the last windows fire and the topology ends.
"""

import random
from operator import add

from heronpy.streamlet import Builder, Config, Runner, WindowConfig

WORDS = ("nature", "nurture", "heron", "storm", "stream", "bolt", "spout", "tuple", "river",
         "flow", "batch", "window", "grouping", "fields", "shuffle", "master")
SENTENCES = 10_000


def sentences():
    """The same random sentences in every run (and in every task of the source)."""
    rng = random.Random(0)
    for _ in range(SENTENCES):
        yield " ".join(rng.choices(WORDS, k=8))


builder = Builder()
(builder.new_source(sentences).set_num_partitions(2)
 .flat_map(str.split)
 .map(lambda word: (word, 1))
 .reduce_by_key_and_window(WindowConfig.create_tumbling_window(10), add)
 .set_num_partitions(3)
 .set_name("counts"))

if __name__ == "__main__":
    config = Config()
    config.set_num_containers(2)
    result = Runner().run("streamlet_word_count", config, builder)
    if result is not None:  # run with `python`, not submitted with `heronpy submit`
        for ((window, count),) in sorted(result.outputs("counts")):
            print(f"{window.key:10} [{window.window.start:.0f}, {window.window.end:.0f})  {count}")
