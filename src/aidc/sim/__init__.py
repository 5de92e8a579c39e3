"""The simulation clock and the components it builds from a scenario."""

from aidc.sim.engine import HallSim, Simulation, StepRecord

__all__ = ["HallSim", "Simulation", "StepRecord"]
