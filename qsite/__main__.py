"""``python -m qsite``: the same as the ``qsite`` script (tests and the benchmark run it this way)."""

import sys

from qsite.cli import main

sys.exit(main())
