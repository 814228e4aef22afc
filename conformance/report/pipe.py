"""Listings written to a pipe that may close early (`| head`): the rest is dropped quietly, not a traceback."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


@contextmanager
def ends_quietly() -> Iterator[None]:
    """Stop writing, without a traceback, when the reader of stdout closes the pipe (as `head` does)."""
    try:
        yield
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would flush stdout again at exit and fail the same way: point it at /dev/null first
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def print_lines(lines: Iterable[str]) -> int:
    """Print `lines` to stdout; 0, also when the reader closed the pipe before the end."""
    with ends_quietly():
        for line in lines:
            sys.stdout.write(line + "\n")
    return 0
