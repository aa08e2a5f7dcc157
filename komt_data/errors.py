"""The one exception tree of komt-data.

Every error the library raises on purpose derives from :class:`KomtDataError`, so
callers (and the CLI) can catch one class. Each carries enough context (file,
line, key, task) to print a single line that tells the user what to fix.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class KomtDataError(Exception):
    """Root of all komt-data errors. ``exit_code`` is what the CLI exits with."""

    exit_code = 1


class ConfigError(KomtDataError):
    """A recipe, task config or template file is wrong: unknown key, bad value, missing file."""

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None):
        self.file = file
        self.key = key
        where = file or ""
        if key:
            where = f"{where}: key '{key}'" if where else f"key '{key}'"
        super().__init__(f"{where}: {message}" if where else message)


class TemplateError(ConfigError):
    """A template does not parse, uses an unknown variable, or tries to escape the sandbox."""

    def __init__(self, message: str, *, template: str, file: str | None = None):
        self.template = template
        super().__init__(f"template '{template}': {message}", file=file)


class DataError(KomtDataError):
    """An input row is malformed and the build was asked to stop on bad rows."""

    exit_code = 2

    def __init__(self, message: str, *, file: str | None = None, line: int | None = None):
        self.file = file
        self.line = line
        self.problem = message
        where = file or ""
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {message}" if where else message)


class AdapterError(ConfigError):
    """An adapter raised something other than Skip: a bug in its code, named with the row it met."""


class OutputError(KomtDataError):
    """The output directory cannot be written as asked (not empty, foreign, inside an input)."""


class DependencyError(KomtDataError):
    """An optional dependency is missing; the message carries the exact install command."""


class Interrupted(BaseException):
    """Raised from a SIGINT/SIGTERM handler (the CLI installs one). A BaseException like
    KeyboardInterrupt, so no ``except Exception`` swallows it and a staged output is
    removed on the way out; its own class, so the CLI framework does not turn it into a
    silent exit before it is reported. ``exit_code`` is 128 + the signal number."""

    def __init__(self, signum: int):
        import signal

        super().__init__(signal.Signals(signum).name)
        self.exit_code = 128 + signum


def on_signal(signum: int, frame: object) -> None:
    """The CLI's SIGINT/SIGTERM handler: raise :class:`Interrupted`. A second Ctrl-C must not
    cut the cleanup of the first one short, so both signals are ignored from here on."""
    import signal

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
    raise Interrupted(signum)


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while modules are imported; once they are, raise :class:`Interrupted`
    for a signal that came meanwhile.

    Raised in the middle of an import, the exception can leave a C extension half initialised
    (numpy's), and the interpreter then dies of SIGSEGV on its way out instead of exiting 130
    (1 run in about 30 with a Ctrl-C 0.15 s into ``komt-data build``). Imports take tenths of
    a second, so the wait is not felt. Outside the main thread (where no handler can be set)
    it does nothing.
    """
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    signals = (signal.SIGINT, signal.SIGTERM)
    held: list[int] = []

    def hold(signum: int, frame: object) -> None:
        held.append(signum)
        for sig in signals:  # as on_signal: a second Ctrl-C changes nothing
            signal.signal(sig, signal.SIG_IGN)

    previous = [(sig, signal.getsignal(sig)) for sig in signals]
    for sig in signals:
        signal.signal(sig, hold)
    try:
        yield
    finally:
        if not held:
            for sig, handler in previous:
                if handler is not None:  # None: set from C, cannot be put back from Python
                    signal.signal(sig, handler)
    if held:
        raise Interrupted(held[0])
