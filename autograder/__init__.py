"""The kit's grader: runs submissions in a sandbox, compares plain values, writes a gradebook.

Kept import-light: the sandbox worker imports parts of this package, so nothing here may
import the reference solution, the hidden tests or the goldens.
"""
