"""The Streamlet API (Heron 0.20's functional API): build a topology from operations on
streams of elements instead of spouts and bolts.

    from heronpy.streamlet import Builder, Config, Count, Runner, WindowConfig

    builder = Builder()
    words = builder.new_source(["to be or", "not to be"]).flat_map(str.split)
    counts = words.map(lambda word: (word, 1)).reduce_by_key_and_window(
        WindowConfig.create_tumbling_window(Count(1000)), lambda a, b: a + b)
    Runner().run("word_count", Config(), builder)

Each streamlet compiles to one spout or bolt (``Builder.build``), named by ``set_name`` or
``<operation>-<n>`` (see ``heronpy.streamlet.streamlet``); ``heronpy.local.run(builder)`` and
``heronpy submit local FILE`` accept a builder. Windows (``WindowConfig``) count elements
(``Count(n)``) or span time: processing time by default, event time with a
``timestamp_extractor``.
"""

from heronpy.streamlet.builder import Builder
from heronpy.streamlet.config import Config
from heronpy.streamlet.context import Context
from heronpy.streamlet.generator import Generator
from heronpy.streamlet.keyedwindow import KeyedWindow
from heronpy.streamlet.resources import Resources
from heronpy.streamlet.runner import Runner
from heronpy.streamlet.streamlet import Streamlet
from heronpy.streamlet.window import Window
from heronpy.streamlet.windowconfig import WindowConfig
from heronpy.windows import Count, Duration

__all__ = ["Builder", "Config", "Context", "Count", "Duration", "Generator", "KeyedWindow",
           "Resources", "Runner", "Streamlet", "Window", "WindowConfig"]
