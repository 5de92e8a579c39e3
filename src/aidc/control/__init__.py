"""Cooling control: setpoint specs, baseline controllers, the safety shield, Gymnasium environments.

Importing this package registers ``aidc/AirCooling-v0`` and ``aidc/LiquidCooling-v0``; their entry
points live in :mod:`aidc.sim.twin` (the layer that owns the clock) and are named as strings, so
this package never imports the simulation layer.
"""

import gymnasium as gym

ENV_IDS = ("aidc/AirCooling-v0", "aidc/LiquidCooling-v0")

if "aidc/AirCooling-v0" not in gym.registry:
    gym.register("aidc/AirCooling-v0", entry_point="aidc.sim.twin:make_air_cooling_env")
    gym.register("aidc/LiquidCooling-v0", entry_point="aidc.sim.twin:make_liquid_cooling_env")
