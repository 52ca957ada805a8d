"""``python -m sslearn``: the command line of :mod:`sslearn.cli`."""

from sslearn.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
