"""``python -m server.cli ARGS`` is ``plaza ARGS``."""

import sys

from server.cli import main

sys.exit(main())
