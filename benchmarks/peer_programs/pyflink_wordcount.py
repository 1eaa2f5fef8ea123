"""Word count in PyFlink's DataStream API, streaming mode: the sentence file -> split (Python
flat_map) -> key_by word -> a running count (Python reduce) -> print, one line per update.
Python functions run in thread mode (inside the JVM): x30 process mode's speed here."""

from __future__ import annotations

import os
import sys

from common import PARAMS, report, started
from pyflink.common import Configuration, Types, WatermarkStrategy
from pyflink.datastream import StreamExecutionEnvironment
from pyflink.datastream.connectors.file_system import FileSource, StreamFormat
from pyflink.datastream.functions import FlatMapFunction, ReduceFunction


class Split(FlatMapFunction):
    def flat_map(self, value: str):
        started()
        for word in value.split():
            yield word, 1

    def close(self) -> None:
        report(f"split-{id(self)}")


class Add(ReduceFunction):
    def reduce(self, a: tuple[str, int], b: tuple[str, int]) -> tuple[str, int]:
        return a[0], a[1] + b[1]

    def close(self) -> None:
        report(f"count-{id(self)}")


os.environ["PYTHONPATH"] = os.pathsep.join(sys.path)  # thread mode's interpreter needs it
config = Configuration()
config.set_string("python.execution-mode", PARAMS["mode"])
config.set_string("python.executable", sys.executable)
env = StreamExecutionEnvironment.get_execution_environment(config)
env.set_parallelism(int(PARAMS["parallelism"]))
source = FileSource.for_record_stream_format(StreamFormat.text_line_format(),
                                            PARAMS["input"]).build()
lines = env.from_source(source, WatermarkStrategy.no_watermarks(), "sentences")
words = lines.flat_map(Split(), output_type=Types.TUPLE([Types.STRING(), Types.INT()]))
words.key_by(lambda pair: pair[0], key_type=Types.STRING()).reduce(Add()).print()
env.execute("wordcount")
