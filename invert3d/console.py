"""What the tool tells its user, on stderr: progress bars on a terminal, one line per finished bar elsewhere (a
log file gets no bar updates), notes and warnings, and the detail that ``--quiet`` and ``-v`` set."""

from __future__ import annotations

import sys
import threading
import time
from contextlib import contextmanager
from typing import Any, Callable, Iterable, Iterator

QUIET, NORMAL, VERBOSE = 0, 1, 2
_level = NORMAL
Listener = Callable[[str, int, "int | None"], None]  # (bar's desc, steps done, total)
_local = threading.local()  # .listener: this thread's Listener, if any


def _listener() -> Listener | None:
    return getattr(_local, "listener", None)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send every progress bar's updates in this block to ``listener`` (the app's progress display; it may
    raise to stop the work, e.g. on cancel), on this thread's bars; bars then draw no terminal line."""
    previous, _local.listener = _listener(), listener
    try:
        yield
    finally:
        _local.listener = previous


def configure(quiet: bool = False, verbose: bool = False) -> None:
    """--quiet: warnings and errors only; -v: also the debug detail."""
    global _level
    _level = QUIET if quiet else VERBOSE if verbose else NORMAL


def level() -> int:
    return _level


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def warn(message: str) -> None:
    _say(f"warning: {message}")


def note(message: str) -> None:
    if _level >= NORMAL:
        _say(f"note: {message}")


def debug(message: str) -> None:
    if _level >= VERBOSE:
        _say(f"debug: {message}")


class _LineBar:
    """A progress bar for a log: says nothing while it runs, one line when it is closed."""

    def __init__(self, iterable: Iterable | None, total: int | None, desc: str, unit: str, initial: int, show: bool):
        self.iterable, self.total, self.desc, self.unit, self.show = iterable, total, desc, unit, show
        self.n, self.start, self.started, self.postfix, self.closed = initial, initial, time.monotonic(), "", False

    def __iter__(self) -> Iterator:
        for item in self.iterable:
            yield item
            self.update()
        self.close()

    def update(self, n: int = 1) -> None:
        self.n += n
        if (listener := _listener()) is not None:
            listener(self.desc, self.n, self.total)

    def set_postfix(self, **values: Any) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.show:
            done = f"{self.n}/{self.total}" if self.total is not None else str(self.n)
            resumed = f", resumed at {self.start}" if self.start else ""
            _say(f"{self.desc}: {done} {self.unit}s in {time.monotonic() - self.started:.0f} s{resumed}"
                 + (f" ({self.postfix})" if self.postfix else ""))

    def __enter__(self) -> _LineBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def progress(iterable: Iterable | None = None, *, total: int | None = None, desc: str = "", unit: str = "it",
             initial: int = 0, leave: bool = False, quiet: bool = False):
    """A tqdm bar on a terminal; elsewhere one line when it closes; nothing with --quiet (or ``quiet``). Use it
    as tqdm: iterate it, or ``update``/``set_postfix``/``close``."""
    show = _level >= NORMAL and not quiet
    if total is None and iterable is not None and hasattr(iterable, "__len__"):
        total = len(iterable)
    if (listener := _listener()) is not None:
        listener(desc, initial, total)
    elif show and sys.stderr.isatty():
        from tqdm import tqdm

        return tqdm(iterable, total=total, desc=desc, unit=unit, initial=initial, leave=leave, file=sys.stderr)
    return _LineBar(iterable, total, desc, unit, initial, show)


def write(message: str) -> None:
    """A line among progress bars (above a terminal's bar)."""
    if sys.stderr.isatty():
        from tqdm import tqdm

        tqdm.write(message, file=sys.stderr)
    else:
        _say(message)
