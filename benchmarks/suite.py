"""The benchmark suite: every benchmark and its peers, measured in one run, reported as JSON,
a Markdown page with tables and PNG plots.

    python -m benchmarks run [--quick] [--only NAME,...] [--peers] [--out DIR]

Each benchmark module has ``measure(quick, peers) -> Result``: its figures, each one system's
values over several runs, every run checked for correctness before it counts. A figure's ratio
compares heronpy with that system measured in the same run, oriented so that a ratio above 1
means heronpy does better (faster, or lower latency).
"""

from __future__ import annotations

import datetime
import importlib
import json
import os
import platform
import socket
import statistics
import sys
import textwrap
import traceback
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

BENCHMARKS = {
    "wordcount": "benchmarks.wordcount",
    "passthrough": "benchmarks.passthrough",
    "windows": "benchmarks.windows",
    "reliability": "benchmarks.reliability",
    "collectives": "benchmarks.collectives",
    "kmeans": "benchmarks.kmeans",
    "transport": "benchmarks.transport",
}


@dataclass
class Figure:
    system: str  # "heronpy, 2 containers", "bytewax -p 1", ...
    metric: str  # "tuples/s", "p99 ms", ...
    values: list[float]  # one per run
    higher_is_better: bool = True

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def is_heronpy(self) -> bool:
        return self.system.startswith("heronpy")


@dataclass
class Result:
    benchmark: str
    description: str  # the workload, in a sentence
    figures: list[Figure] = field(default_factory=list)
    details: str = ""  # a benchmark's own full table, printed under the figures
    images: dict[str, bytes] = field(default_factory=dict)  # its own PNG plots, by name
    failed: bool = False  # it raised: ``details`` has the traceback

    def add(self, system: str, metric: str, value: float, higher_is_better: bool = True) -> None:
        """Appends one run's ``value`` to the figure (system, metric), made on first use."""
        for figure in self.figures:
            if (figure.system, figure.metric) == (system, metric):
                figure.values.append(value)
                return
        self.figures.append(Figure(system, metric, [value], higher_is_better))

    def ratio(self, figure: Figure) -> float | None:
        """heronpy's first figure of the same metric against ``figure`` (> 1: heronpy better)."""
        ours = next((f for f in self.figures if f.is_heronpy and f.metric == figure.metric), None)
        if ours is None or figure.is_heronpy or not figure.median or not ours.median:
            return None
        return (ours.median / figure.median if figure.higher_is_better
                else figure.median / ours.median)

    def table(self) -> str:
        """A Markdown table: every figure with min / median / max and its ratio."""
        lines = [f"**{self.benchmark}**: {self.description}", "",
                 "| system | metric | min | median | max | runs | heronpy vs it |",
                 "|---|---|---:|---:|---:|---:|---:|"]
        for f in self.figures:
            ratio = self.ratio(f)
            lines.append(f"| {f.system} | {f.metric} | {_num(min(f.values))} | "
                         f"{_num(f.median)} | {_num(max(f.values))} | {len(f.values)} | "
                         f"{'' if ratio is None else f'{ratio:.3g}x'} |")
        return "\n".join(lines)


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def machine() -> dict:
    """What the figures were measured on."""
    versions = {}
    for package in ("heronpy", "pyzmq", "numpy", "msgpack"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = None
    return {"host": socket.gethostname(), "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpus": _cpus(), "python": sys.version.split()[0], "versions": versions}


def _cpus() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def plot(result: Result, path: Path) -> bool:
    """A bar chart of each metric's medians (min-max whiskers); False without matplotlib or
    figures."""
    if not result.figures:
        return False
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    metrics = list(dict.fromkeys(f.metric for f in result.figures))
    fig, axes = plt.subplots(len(metrics), 1, figsize=(9, 1.2 + 0.45 * len(result.figures)),
                             squeeze=False)
    for ax, metric in zip(axes[:, 0], metrics, strict=True):
        figures = [f for f in result.figures if f.metric == metric]
        medians = [f.median for f in figures]
        errors = [[m - min(f.values) for m, f in zip(medians, figures, strict=True)],
                  [max(f.values) - m for m, f in zip(medians, figures, strict=True)]]
        colours = ["tab:blue" if f.is_heronpy else "tab:gray" for f in figures]
        ax.barh([f.system for f in figures], medians, xerr=errors, color=colours)
        ax.invert_yaxis()
        ax.set_xlabel(metric)
    title = textwrap.fill(f"{result.benchmark}: {result.description}", 110)
    axes[0, 0].set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return True


def run(names: list[str], quick: bool, peers: bool, out: Path) -> tuple[Path, list[str]]:
    """Runs the benchmarks ``names``; writes ``out/<date>-<host>.json`` and ``.md`` (and a
    PNG per benchmark); returns the Markdown report's path and the benchmarks that failed
    (reported too: the others still run)."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"{datetime.date.today().isoformat()}-{socket.gethostname()}"
    results, load = [], {"before": os.getloadavg()[0]}
    for name in names:
        module = importlib.import_module(BENCHMARKS[name])
        print(f"== {name}", file=sys.stderr, flush=True)
        try:
            results.append(module.measure(quick=quick, peers=peers))
        except Exception as err:  # reported, and the other benchmarks still run
            traceback.print_exc()
            results.append(Result(name, f"FAILED: {err}", details=traceback.format_exc(),
                                  failed=True))
    load["after"] = os.getloadavg()[0]
    info = {**machine(), "load_average_1min": load}
    (out / f"{stem}.json").write_text(json.dumps(
        {"machine": info, "quick": quick, "peers": peers,
         "results": [{**asdict(r), "images": list(r.images)} for r in results]}, indent=1))
    lines = [f"# heronpy benchmark report, {stem}", "",
             f"{info['cpus']} CPUs, {info['processor']}, {info['platform']}, Python "
             f"{info['python']}; {'quick' if quick else 'full'} run"
             f"{', with peers' if peers else ''}; load average {load['before']:.1f} before, "
             f"{load['after']:.1f} after. Ratios: heronpy against each system measured "
             "in the same run, above 1 when heronpy does better.", ""]
    for result in results:
        lines += [result.table(), ""]
        image = out / f"{stem}-{result.benchmark}.png"
        if plot(result, image):
            lines += [f"![{result.benchmark}]({image.name})", ""]
        if result.details:
            lines += ["```", result.details, "```", ""]
        for name, png in result.images.items():
            own = out / f"{stem}-{result.benchmark}-{name}.png"
            own.write_bytes(png)
            lines += [f"![{result.benchmark}: {name}]({own.name})", ""]
    report = out / f"{stem}.md"
    report.write_text("\n".join(lines))
    return report, [r.benchmark for r in results if r.failed]
