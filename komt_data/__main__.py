"""``python -m komt_data`` and the ``komt-data`` script: the command line.

Signal handlers go in before anything heavy is imported, so a Ctrl-C during start-up
ends with one line and exit 130, not a traceback from the middle of an import (nor a
crash: :func:`komt_data.errors.signals_held`).
"""

from __future__ import annotations

import signal
import sys

from .errors import Interrupted, on_signal, signals_held


def main() -> None:
    """Entry point of the ``komt-data`` console script."""
    try:
        with signals_held():
            from .cli import main as cli_main
    except Interrupted as exc:
        sys.stderr.write(f"komt-data: interrupted{' (SIGTERM)' if exc.exit_code == 143 else ''} while starting; "
                         "nothing written\n")
        sys.exit(exc.exit_code)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    cli_main()


if __name__ == "__main__":
    main()
