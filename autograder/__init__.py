"""The kit's grader: runs submissions in a sandbox, compares plain values, writes a gradebook.

Kept import-light: the sandbox worker imports parts of this package, so nothing here may
import the reference solution, the hidden tests or the goldens.
"""

import os

# The checkout (or unzipped release) the kit runs from: autograder/, solution/, assignments/ below it.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
