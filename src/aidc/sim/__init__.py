"""The composition root (:mod:`aidc.sim.build`), the hall component and the clock that steps them."""

from aidc.sim.build import build_simulation
from aidc.sim.engine import HallRecord, Simulation, StepRecord
from aidc.sim.hall import HallSim, HallState, HallStep

__all__ = ["HallRecord", "HallSim", "HallState", "HallStep", "Simulation", "StepRecord", "build_simulation"]
