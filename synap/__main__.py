"""`python -m synap ...` is the `synap` command."""

import sys

from synap.cli import main

sys.exit(main())
