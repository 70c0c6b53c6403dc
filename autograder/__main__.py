"""`python -m autograder`: the one place a KitError (autograder/errors.py) becomes an exit status."""

import sys

from autograder.cli import main
from autograder.errors import KitError

try:
    status = main()
except KitError as err:
    print(f"python -m autograder: {err}", file=sys.stderr)
    status = 2
raise SystemExit(status)
