"""``python -m komt_data`` and the ``komt-data`` script: the command line.

Signal handlers go in before anything heavy is imported, so a Ctrl-C during start-up
ends with one line and exit 130, not a traceback from the middle of an import.
"""

from __future__ import annotations

import signal
import sys

from .errors import Interrupted, on_signal


def main() -> None:
    """Entry point of the ``komt-data`` console script."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    try:
        from .cli import main as cli_main
    except (Interrupted, KeyboardInterrupt) as exc:
        code = exc.exit_code if isinstance(exc, Interrupted) else 130
        sys.stderr.write(f"komt-data: interrupted{' (SIGTERM)' if code == 143 else ''} while starting; "
                         "nothing written\n")
        sys.exit(code)
    cli_main()


if __name__ == "__main__":
    main()
