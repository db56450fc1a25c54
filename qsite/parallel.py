"""Spreading a build's pure, expensive steps (parsing front matter, Markdown, page rendering)
over worker processes.

Workers are forked, so they start with everything the parent had already built — the site
model and the Jinja environment need not be pickled, only small work orders going out and
results coming back, in chunks to keep that traffic low. Results come back in the order of the
work, whichever worker did it, so the output is byte for byte that of a one-process build.

A pool is only worth its start-up cost for a big batch: small batches (one edited post in
``qsite serve``, a test site) run in this process. So do all batches when other threads are
running (``qsite serve``'s file watcher): forking a process with threads can deadlock.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

# ``multiprocessing``, ``concurrent.futures.process`` (with ``socket``, ``selectors``…) and
# ``ctypes`` are imported by the code that forks a pool, not here: a one-post rebuild or a small
# site never spreads a batch, and importing them cost every ``qsite build`` ~10 ms of its start
# (issue 10; tests/test_startup_imports.py).

T = TypeVar("T")
R = TypeVar("R")

# Below this many items a batch runs here; tests lower it to exercise the pool on small sites.
MIN_PARALLEL = 64
CHUNKS_PER_WORKER = 4
# At most this many items per chunk: a chunk's results (rendered pages) are held whole until
# taken, so big chunks would hold a big site's pages in memory at once (170 MB at 5,000 posts).
MAX_CHUNK = 128

_state: Any = None  # what a forked worker finds: set just before the pool forks
_in_worker = False  # True in a forked worker process (``_call``)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    import multiprocessing  # only asked before a big batch: see the imports above

    return "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1


class Workers:
    """How many processes a build may use; counts the batches it actually spread out."""

    def __init__(self, jobs: int | None = None):
        self.jobs = jobs if jobs is not None else default_jobs()
        self.parallel_batches = 0

    def map(self, fn: Callable[[Any, Sequence[T]], list[R]], items: Sequence[T], state: Any = None) -> Iterator[R]:
        """``fn(state, chunk)`` over chunks of ``items``, results in the order of ``items``.

        ``fn`` must be a module-level function (it is sent to workers by name); ``state`` is
        inherited by forked workers rather than sent, so it may be anything.
        """
        if self.jobs <= 1 or len(items) < MIN_PARALLEL or not can_fork():
            for i in range(0, len(items), MAX_CHUNK):
                yield from fn(state, items[i : i + MAX_CHUNK])
            return
        global _state
        size = min(MAX_CHUNK, max(1, -(-len(items) // (self.jobs * CHUNKS_PER_WORKER))))
        chunks = [items[i : i + size] for i in range(0, len(items), size)]
        _state = state
        self.parallel_batches += 1
        import multiprocessing  # a pool is forked: see the imports above (before the freeze, to be frozen too)
        from concurrent.futures import ProcessPoolExecutor

        # Everything the parent holds now (the site model, the templates) is moved out of the
        # garbage collector's sight until the pool is done, so the workers' collections never
        # walk it: a walk writes to every object it visits, which costs each worker a private
        # copy of the pages it inherited, and the time of the walk itself (Python's gc docs
        # recommend gc.freeze() before forking for exactly this).
        gc.freeze()
        _return_free_memory()
        try:
            context = multiprocessing.get_context("fork")
            with ProcessPoolExecutor(max_workers=self.jobs, mp_context=context) as pool:
                # A few chunks per worker in flight, not all: results wait here until taken,
                # and a parent slower than its workers would otherwise hold them all.
                window = self.jobs * 2
                pending = deque(pool.submit(_call, fn, chunk) for chunk in chunks[:window])
                try:
                    for chunk in chunks[window:]:
                        results = pending.popleft().result()
                        pending.append(pool.submit(_call, fn, chunk))
                        yield from results
                    while pending:
                        yield from pending.popleft().result()
                except BaseException:  # Ctrl-C, a failed chunk, or the caller stopped (GeneratorExit)
                    # chunks not started yet are dropped; leaving the ``with`` waits for the
                    # running ones, so no worker is still at work (writing into a staging
                    # folder, say: qsite/build.py StageSink) once this generator is closed
                    pool.shutdown(wait=False, cancel_futures=True)
                    raise
        finally:
            gc.unfreeze()
            _state = None


def _return_free_memory() -> None:
    """Give the C heap's free pages back to the system before forking (glibc's
    ``malloc_trim``). What a build let go of (each file's text once its Markdown is rendered:
    ``Engine.content_read``) leaves holes between live objects that ``free`` keeps, and a
    forked worker's resident size counts every page of the parent, holes included: at
    20,000 posts about 100 MiB of the parent and of each worker (bench/memory.py). A no-op
    where the C library has no such call."""
    import ctypes  # only before a pool forks: see the imports above

    try:
        libc = ctypes.CDLL(None)
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return
    trim.argtypes = [ctypes.c_size_t]
    trim(0)


def in_worker() -> bool:
    """Whether this code runs in a worker process (a batch spread out), not in the build's own."""
    return _in_worker


def _call(fn: Callable[[Any, Sequence[T]], list[R]], chunk: Sequence[T]) -> list[R]:
    global _in_worker
    _in_worker = True
    gc.enable()  # forked from a build that paused it (``collector_paused``): a worker's garbage is its own
    return fn(_state, chunk)


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for one build in this process, as it was after.

    A build holds everything it reads until it ends (front matter, bodies, posts, groups, page
    keys: millions of objects at 5,000 posts), and allocates far faster than it frees, so the
    collector's full passes kept walking all of them: about a second of a 5,000-post one-post
    rebuild (bench/PROFILE.md), for almost no garbage. Reference counting still frees nearly
    everything; the few cycles a build leaves are collected once it is over. Usable as a
    decorator. Worker processes turn the collector back on (``_call``)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
