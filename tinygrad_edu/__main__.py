"""`python -m tinygrad_edu ...` runs the same CLI as the `tinygrad-edu` script."""

import sys

from .cli import main

sys.exit(main())
