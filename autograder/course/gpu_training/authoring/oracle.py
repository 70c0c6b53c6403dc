"""gpu_training is PyTorch already: the reference's API, which runs on get_device()."""

from solution.gpu_training import *  # noqa: F401,F403
from solution.gpu_training import __all__  # noqa: F401
