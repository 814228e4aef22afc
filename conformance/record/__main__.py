"""`python -m conformance.record verify DIR [--allowed-signers FILE]`, and `public-key KEY` for allowed signers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from conformance.record.errors import RecordError


def verify_main(argv: list[str] | None = None) -> int:
    """`image-api-conformance-verify DIR [--allowed-signers FILE]`: exit 0 only when every check passes."""
    return main(["verify", *(sys.argv[1:] if argv is None else argv)])


def main(argv: list[str] | None = None) -> int:
    """Run one command; bad input is one line on stderr and exit 2, a failed check exit 1."""
    parser = argparse.ArgumentParser(prog="python -m conformance.record",
                                     description="Check a signed record of a conformance run.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("verify", help="check record.intoto.json against the reports beside it")
    check.add_argument("folder", type=Path, metavar="DIR", help="the report folder of a run made with --record")
    check.add_argument("--allowed-signers", type=Path, metavar="FILE",
                       help="OpenSSH allowed-signers file of the keys trusted to sign records")
    public = commands.add_parser("public-key", help="print the allowed-signers key of a --sign-key key")
    public.add_argument("key", type=Path, metavar="KEY")
    args = parser.parse_args(argv)
    from conformance.evidence import inert
    from conformance.record import keys, verify

    try:
        if args.command == "public-key":
            print(keys.public_line(args.key))
            return 0
        if not args.folder.is_dir():
            raise RecordError(f"{args.folder}: no such folder")
        verified = verify.verify(args.folder, args.allowed_signers)
    except RecordError as exc:
        print(f"error: {inert(str(exc))}", file=sys.stderr)
        return 2
    for found in verified.checks:
        for line in found.lines():
            print(inert(line))  # ids and dates come from the files checked: no control character reaches the terminal
    print(f"record {'verified' if verified.ok else 'NOT verified'}: {args.folder}")
    return 0 if verified.ok else 1


if __name__ == "__main__":
    sys.exit(main())
