"""The course: one folder per assignment (see autograder/assignments.py)."""
