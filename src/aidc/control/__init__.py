"""Cooling control: setpoint specs, baseline controllers, the safety shield, Gymnasium environments over
the twin (:mod:`aidc.control.twin`), offline-RL datasets and training, an LLM as a controller
(:mod:`aidc.control.llm_controller`), and the API the CLI calls.

Importing this package registers ``aidc/AirCooling-v0``, ``aidc/LiquidCooling-v0`` and
``aidc/SitePower-v0`` (:mod:`aidc.control.site_env`).
"""

from functools import partial

import gymnasium as gym

from aidc.control.site_env import SitePowerEnv
from aidc.control.twin import make_env

ENV_IDS = ("aidc/AirCooling-v0", "aidc/LiquidCooling-v0")
SITE_ENV_ID = "aidc/SitePower-v0"

if "aidc/AirCooling-v0" not in gym.registry:
    gym.register("aidc/AirCooling-v0", entry_point=partial(make_env, "air"))
    gym.register("aidc/LiquidCooling-v0", entry_point=partial(make_env, "liquid"))
if SITE_ENV_ID not in gym.registry:
    gym.register(SITE_ENV_ID, entry_point=SitePowerEnv)
