"""The incremental engine: the one place that decides whether earlier work can be reused.

Every question of freshness lives in this package, so no pipeline step builds a cache key,
hashes a file or stamps an output itself:

* ``engine.py``: the ``Engine`` the pipeline (``qsite/build.py``) hands its work to, on disk
  (``qsite build``), in memory (``qsite serve``) or throwaway (``check``, ``--no-cache``);
* ``cache.py``: the stores and their keys (parsed files, validated front matter, Markdown,
  template dependencies, related posts, page keys);
* ``cachefiles.py``: the cache's JSON format, the one shape of a file stamp, and the key of the
  engine that wrote a file;
* ``fastpath.py``: the no-change shortcut, checked before the pipeline is even imported.

This file imports nothing, so ``qsite.incremental.fastpath`` stays as light as it must be.
"""
