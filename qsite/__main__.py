import sys

from qsite.cli import main

sys.exit(main())
