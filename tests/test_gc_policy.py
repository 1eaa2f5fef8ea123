"""The task's GC policy: survivors are frozen, and cyclic garbage is still reclaimed."""

import gc
import weakref

from heronpy.instance.gc_policy import GcPolicy


class Node:
    pass


def test_survivors_are_frozen_and_cycles_are_collected_at_the_next_collect():
    gc.unfreeze()
    try:
        policy = GcPolicy(collect_secs=3600)
        kept = [Node() for _ in range(100)]
        policy.after_batch()
        assert gc.get_freeze_count() >= len(kept)

        cycle = Node()
        cycle.me = cycle
        alive = weakref.ref(cycle)
        del cycle
        policy.after_batch()  # frozen: the collector no longer sees it
        gc.collect()
        assert alive() is not None

        GcPolicy(collect_secs=0).after_batch()  # a collect is due: unfreeze and collect
        assert alive() is None
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
