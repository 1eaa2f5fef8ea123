"""The ``heronpy`` command: submit and explain topologies."""

from __future__ import annotations

import argparse
import json
import sys

from heronpy import __version__, local
from heronpy.api import api_constants
from heronpy.runtime.loader import load_file
from heronpy.topology.logical import InvalidTopologyError
from heronpy.topology.physical import PhysicalPlan

_SHOWN_OUTPUTS = 10


def _config_pair(text: str) -> tuple[str, object]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, given {text!r}")
    try:
        return key, json.loads(value)
    except json.JSONDecodeError:
        return key, value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="heronpy", description=__doc__)
    parser.add_argument("--version", action="version", version=f"heronpy {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    def topology_args(p: argparse.ArgumentParser) -> None:
        p.add_argument("file", help="the topology file (a heronpy / Heron Python topology)")
        p.add_argument("args", nargs="*", help="arguments the file sees in sys.argv[1:]")
        p.add_argument("--config", action="append", type=_config_pair, default=[],
                       metavar="KEY=VALUE", help="override a topology config value (JSON value)")
        p.add_argument("--containers", type=int, help="number of containers (topology.stmgrs)")

    submit = commands.add_parser("submit", help="run a topology")
    submit.add_argument("cluster", choices=["local"], help="where to run it")
    topology_args(submit)
    submit.add_argument("--timeout", type=float, help="stop after this many seconds")
    explain = commands.add_parser("explain", help="print the logical and physical plans")
    topology_args(explain)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides = dict(args.config)
    if args.containers is not None:
        overrides[api_constants.TOPOLOGY_STMGRS] = args.containers
    try:
        plan = local.with_config(load_file(args.file, args.args), overrides)
    except (InvalidTopologyError, FileNotFoundError) as err:
        print(f"heronpy: {err}", file=sys.stderr)
        return 2
    if args.command == "explain":
        print(plan.describe())
        print(PhysicalPlan.pack(plan).describe())
        return 0
    print(f"heronpy: running topology '{plan.name}' in {plan.num_containers} container(s); "
          "Ctrl-C stops it", file=sys.stderr)
    try:
        result = local.run(plan, timeout=args.timeout)
    except KeyboardInterrupt:
        print("heronpy: stopped", file=sys.stderr)
        return 130
    except (local.TopologyFailed, TimeoutError) as err:
        print(f"heronpy: {err}", file=sys.stderr)
        return 1
    _report(result)
    return 0


def _report(result: local.RunResult) -> None:
    for name, metrics in result.metrics.items():
        print(f"{name}: executed {metrics['executed']}, emitted {metrics['emitted']}")
        component = result.plan.logical.components[name]
        for stream in component.outputs:
            if result.plan.logical.consumers(name, stream):
                continue
            values = result.outputs(name, stream)
            for value in values[:_SHOWN_OUTPUTS]:
                print(f"  {stream}: {value}")
            if len(values) > _SHOWN_OUTPUTS:
                print(f"  {stream}: ... {len(values) - _SHOWN_OUTPUTS} more")
