"""``python -m heronpy``: the same as the ``heronpy`` command."""

import sys

from heronpy.cli import main

sys.exit(main())
