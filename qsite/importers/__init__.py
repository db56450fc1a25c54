"""Importers: move an existing blog into qsite (``qsite import wordpress|jekyll``).

A tool beside the build, not a step of it. Each reader (``wordpress.py``, ``jekyll.py``) reads
the old blog whole and plans every file as a ``writer.Doc``; ``run.py`` checks the plan and
hands it to ``writer.py``, which writes only under ``content/`` and never over an editor's
file; ``report.py`` says what happened. Nothing is written if reading fails.
"""
