"""The six assignments the grader knows: module names, numbering, and what their workers preload."""
import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Assignment:
    name: str
    number: int
    preload: tuple = ("numpy",)

    @property
    def filename(self):
        return f"{self.name}.py"

    def tests(self, *, public_only=False):
        """The graded tests: public ones from autograder.public, plus hidden ones when available."""
        module = f"autograder.public.{self.name}" if public_only else f"autograder.hidden.{self.name}"
        return list(importlib.import_module(module).TESTS)

    def reference(self):
        return importlib.import_module(f"solution.{self.name}")


ASSIGNMENTS = {a.name: a for a in [
    Assignment("autodiff", 1),
    Assignment("backprop", 2),
    Assignment("cnn_layer", 3),
    Assignment("dropout", 4),
    Assignment("momentum", 5),
    Assignment("init_gradflow", 7),
    Assignment("gpu_training", 6, preload=("numpy", "torch", "sklearn.datasets", "sklearn.model_selection")),
    Assignment("attention", 8),
]}


def get(name: str) -> Assignment:
    try:
        return ASSIGNMENTS[name]
    except KeyError:
        raise SystemExit(f"unknown assignment {name!r}; choose one of {', '.join(ASSIGNMENTS)}") from None
