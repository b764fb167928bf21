"""Process models: pure, deterministic state advanced by ``step(dt)``; no clock, no I/O."""

from simulators.model.base import ProcessModel, Value, Variable
from simulators.model.plant import PlantModel

__all__ = ["PlantModel", "ProcessModel", "Value", "Variable"]
