"""Stopping the same clean way on Ctrl-C (SIGINT) and on ``kill`` (SIGTERM).

Python turns only SIGINT into ``KeyboardInterrupt``, and not even that when the process
inherited SIGINT as *ignored*: a shell running a command in the background without job
control (``cmd &`` in a script, ``nohup``, many CI runners and editors' task runners) does
exactly that. SIGTERM, what ``kill``, Docker and systemd send, kills Python outright, skipping
every ``finally``. ``stop_on`` makes both raise ``Interrupted``, a ``KeyboardInterrupt``, so
every ``with`` and ``finally`` unwinds as it does for Ctrl-C (staging folders removed, the
server's streams closed) and the exit status can say which signal it was (128 + its number,
as shells report it: 130 for SIGINT, 143 for SIGTERM).

Only the first signal raises. Once the process is stopping, later ones are ignored until it
exits, so a second Ctrl-C (people press it twice) or a SIGTERM following a SIGINT cannot cut
the clean-up short halfway or end it with a traceback. Clean-up must therefore be short: it is
bounded by the callers (``qsite serve`` stops within a second).

Worker processes (``qsite/parallel.py``) are forked, so they inherit the handler; there it
leaves stopping to the process that installed it. Ctrl-C reaches every process of the
terminal's group: a worker ignores SIGINT, finishing its chunk while the build unwinds, and
a SIGTERM ends it at once, as by default. Either way no worker prints a traceback.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Any

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

# Process-wide, as signal dispositions are: set once a stop signal has been acted on, so every
# handler installed here, however nested, ignores the ones that follow.
_stopping = threading.Event()
_owner = 0  # the process that installed the handler; a forked worker has another pid


class Interrupted(KeyboardInterrupt):
    """Raised by the first stop signal; ``signum`` says which (SIGINT or SIGTERM)."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_status(exc: KeyboardInterrupt) -> int:
    """What a shell reports for a process killed by the signal: 128 + its number. A plain
    ``KeyboardInterrupt`` (raised by Python's own SIGINT handler) counts as SIGINT."""
    return 128 + int(getattr(exc, "signum", signal.SIGINT))


def _handler(signum: int, frame: FrameType | None) -> None:
    if os.getpid() != _owner:  # a forked worker
        if signum != signal.SIGINT:
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
        return
    if _stopping.is_set():
        return
    _stopping.set()
    raise Interrupted(signum)


@contextlib.contextmanager
def stop_on(signals: tuple[signal.Signals, ...] = STOP_SIGNALS, *, keep_ignored: bool = False) -> Iterator[None]:
    """Within the block, the first of ``signals`` raises ``Interrupted``.

    ``keep_ignored``: leave alone a signal inherited as ignored. That is the Unix convention
    for one-off commands (``qsite build &`` in a script must not die when Ctrl-C is pressed for
    the script); ``qsite serve`` passes False, since scripts, CI jobs and test runners start it in
    the background and stop it with exactly these signals.

    On leaving the block the previous handlers come back, unless a stop signal was acted on:
    then the signals stay ignored while the process finishes unwinding and exits. Outside the
    main thread (where Python cannot install handlers) this does nothing.
    """
    global _owner
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _owner = os.getpid()
    previous: dict[signal.Signals, Any] = {}
    try:
        for signum in signals:
            if keep_ignored and signal.getsignal(signum) == signal.SIG_IGN:
                continue
            previous[signum] = signal.signal(signum, _handler)
        yield
    finally:
        for signum, old in previous.items():
            if _stopping.is_set():
                signal.signal(signum, signal.SIG_IGN)
            else:
                signal.signal(signum, old if old is not None else signal.SIG_DFL)
