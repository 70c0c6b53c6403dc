"""Print the project's dependencies from pyproject.toml (core + dev), one per line, for pip.

The kit runs from its source tree and is not installed itself: the Otter autograder zip must
import the engine it ships, never a copy installed in the environment.
"""

import os
import tomllib

with open(os.path.join(os.path.dirname(__file__), "..", "pyproject.toml"), "rb") as f:
    project = tomllib.load(f)["project"]
for requirement in project["dependencies"] + project["optional-dependencies"]["dev"]:
    if not requirement.startswith("torch"):  # the Makefile pins torch with $(TORCH)
        print(requirement)
