"""qsite/parallel.py: work spread over forked workers comes back in order, and the workers'
garbage collector leaves alone what they inherited (issue 10: the cost of parallel builds)."""

from __future__ import annotations

import json
import subprocess
import sys

# Run in a fresh interpreter: a pool is only forked from a process with one thread, and other
# tests (serve's) leave threads behind in this one.
SCRIPT = """
import gc, json, os
from qsite import parallel

def where(_state, chunk):
    return [(item, os.getpid(), gc.get_freeze_count()) for item in chunk]

parallel.MIN_PARALLEL = 1
held = [{"post": i} for i in range(10_000)]  # what a parent holds when it forks: the model
workers = parallel.Workers(2)
results = list(workers.map(where, list(range(200))))
print(json.dumps({"results": results, "parent": os.getpid(), "held": len(held),
                  "batches": workers.parallel_batches, "frozen_after": gc.get_freeze_count()}))
"""


def test_workers_return_results_in_order_and_never_collect_the_parents_objects() -> None:
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    results = report["results"]
    assert report["batches"] == 1
    assert [item for item, _pid, _frozen in results] == list(range(200))
    assert all(pid != report["parent"] for _item, pid, _frozen in results)
    # everything inherited is out of the collector's sight in the workers …
    assert all(frozen >= report["held"] for _item, _pid, frozen in results)
    # … and back in it in the parent once the workers are done
    assert report["frozen_after"] == 0
