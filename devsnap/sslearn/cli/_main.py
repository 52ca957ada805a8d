"""The entry point of the ``sslearn`` command (and of ``python -m sslearn``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from sslearn.cli._errors import CLIError
from sslearn.cli._parser import PROG, build_parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``sslearn`` command line.

    Parameters
    ----------
    argv : sequence of str, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 for invalid arguments or input data (the message goes to stderr).

    Examples
    --------
    >>> from sslearn.cli import main
    >>> main(["fit", "missing.csv", "--target-col", "y"])
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:  # --help, or a usage error argparse has already printed
        return int(exit_.code or 0)
    try:
        return args.run(args)
    except CLIError as error:
        print(f"{PROG} {args.command}: error: {error}", file=sys.stderr)
        return 2
