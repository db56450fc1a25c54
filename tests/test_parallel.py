"""qsite/parallel.py: work spread over forked workers comes back in order, and the workers'
garbage collector leaves alone what they inherited (issue 10: the cost of parallel builds)."""

from __future__ import annotations

import gc
import os
from collections.abc import Sequence

import pytest

from qsite import parallel
from qsite.parallel import Workers


def _where(_state: object, chunk: Sequence[int]) -> list[tuple[int, int, int]]:
    return [(item, os.getpid(), gc.get_freeze_count()) for item in chunk]


@pytest.mark.skipif(not parallel.can_fork(), reason="needs fork and a single thread")
def test_workers_return_results_in_order_and_never_collect_the_parents_objects(monkeypatch) -> None:
    monkeypatch.setattr(parallel, "MIN_PARALLEL", 1)
    held = [{"post": i} for i in range(10_000)]  # what a parent holds when it forks: the model
    results = list(Workers(2).map(_where, list(range(200))))
    assert [item for item, _pid, _frozen in results] == list(range(200))
    assert all(pid != os.getpid() for _item, pid, _frozen in results)
    # everything inherited is out of the collector's sight in the workers …
    assert all(frozen >= len(held) for _item, _pid, frozen in results)
    # … and back in it in the parent once the workers are done
    assert gc.get_freeze_count() == 0
