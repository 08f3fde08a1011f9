"""``python -m triage.cli``: the same entry point as the ``triage`` console script."""

import sys

from triage.cli import main

sys.exit(main())
