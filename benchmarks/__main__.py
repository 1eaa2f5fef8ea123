"""``python -m benchmarks run [--quick] [--only NAME,...] [--peers] [--out DIR]``: the suite
(see ``benchmarks/suite.py``); each benchmark also runs alone: ``python -m benchmarks.NAME``."""

import argparse
import sys
from pathlib import Path

from benchmarks import suite


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the suite and write the report")
    run.add_argument("--quick", action="store_true", help="small sizes, one run each (< 2 min)")
    run.add_argument("--only", default=",".join(suite.BENCHMARKS),
                     help=f"comma-separated, from: {', '.join(suite.BENCHMARKS)}")
    run.add_argument("--peers", action="store_true",
                     help="also measure the peer systems (installed into ~/.cache/heronpy/peers)")
    run.add_argument("--out", type=Path, default=Path("benchmarks/results"))
    args = parser.parse_args()
    names = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(suite.BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmarks {unknown}; choose from {list(suite.BENCHMARKS)}")
    report, failed = suite.run(names, args.quick, args.peers, args.out)
    print(report.read_text())
    print(f"\nwritten: {report} (and .json, .png beside it)")
    if failed:
        sys.exit(f"failed: {', '.join(failed)} (see the report)")


if __name__ == "__main__":
    main()
