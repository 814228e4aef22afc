"""`python -m conformance.fleet run MANIFEST --out DIR [--jobs N] [--shard i/n]` and `merge RUN_DIR... --out DIR`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEFAULT_TIME_LIMIT = 1200.0  # seconds per endpoint run: the suite's default --budget of 900 s, and the reports


def main(argv: list[str] | None = None) -> int:
    """Run one command; bad input is one line on stderr and exit 2."""
    parser = argparse.ArgumentParser(prog="python -m conformance.fleet",
                                     description="Certify a fleet of endpoints and compare them in one report.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="certify the endpoints of a manifest (or of one shard of it)")
    run.add_argument("manifest", type=Path, metavar="MANIFEST")
    run.add_argument("--out", type=Path, required=True, metavar="DIR", help="one report folder per endpoint in it")
    run.add_argument("--jobs", type=int, default=2, metavar="N", help="endpoints certified at once (default 2)")
    run.add_argument("--shard", metavar="i/n", help="run shard i (from 0) of n; default: JOB_COMPLETION_INDEX and "
                     "FLEET_SHARD_COUNT when set, else the whole manifest")
    run.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT, metavar="SECONDS",
                     help=f"seconds one endpoint's run may take before it is ended (default {DEFAULT_TIME_LIMIT:g})")
    merge = commands.add_parser("merge", help="verify the shards' records and write the fleet report")
    merge.add_argument("run_dirs", type=Path, nargs="+", metavar="RUN_DIR", help="the --out folders of the shards")
    merge.add_argument("--out", type=Path, required=True, metavar="DIR")
    merge.add_argument("--allowed-signers", type=Path, metavar="FILE",
                       help="OpenSSH allowed-signers file: every record must be signed by one of them")
    args = parser.parse_args(argv)
    from conformance.evidence import inert
    from conformance.fleet.manifest import ManifestError
    from conformance.record.errors import RecordError

    try:
        return _run(args) if args.command == "run" else _merge(args)
    except (ManifestError, RecordError) as exc:
        print(f"error: {inert(str(exc))}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"error: {inert(str(exc.filename or ''))}: {exc.strerror or exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace) -> int:
    from conformance.fleet.manifest import ManifestError, load
    from conformance.fleet.runner import parse_shard, run_shard

    if args.jobs < 1 or args.time_limit <= 0:
        raise ManifestError("--jobs must be at least 1 and --time-limit positive")
    manifest = load(args.manifest)
    index, count = parse_shard(args.shard, os.environ)
    ran = run_shard(manifest, args.out, index, count, args.jobs, args.time_limit)
    print(f"fleet shard {index}/{count}: {len(ran)} endpoint(s) run into {args.out}")
    if any(r.exit_status is None or r.exit_status >= 2 for r in ran):
        return 2  # a run did not finish its record
    return 1 if any(r.exit_status for r in ran) else 0


def _merge(args: argparse.Namespace) -> int:
    from conformance.evidence import inert
    from conformance.fleet import report
    from conformance.fleet.merge import merge

    fleet = merge(args.run_dirs, args.allowed_signers)
    written = report.write(fleet, args.out)
    for endpoint in fleet.endpoints:
        if endpoint.missing:
            state = f"MISSING ({endpoint.missing})"
        else:
            state = endpoint.verdict.upper() + ("" if endpoint.verified else ", record NOT verified")
            state += f", required not met: {', '.join(endpoint.not_met)}" if endpoint.not_met else ""
        print(inert(f"{endpoint.name}: {state}"))
    disagreeing = fleet.disagreeing()
    if disagreeing:
        print(f"endpoints disagree on: {', '.join(disagreeing)}")
    print(f"fleet verdict: {'FAIL' if fleet.fails else 'PASS'} · {', '.join(str(p) for p in written)}")
    return 1 if fleet.fails else 0


if __name__ == "__main__":
    sys.exit(main())
