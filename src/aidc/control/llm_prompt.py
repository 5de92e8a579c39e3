"""What an LLM cooling controller reads: the choices it may make, and the prompt that frames them.

The recipe is Song et al., "Pre-trained Large Language Models for Industrial Control" (arXiv
2308.03028): a task description, expert demonstrations chosen by the nearest state, a buffer of
recent transitions with their outcomes, and numbers rounded by a translator so that a small model
reads "31.5 °C", not "31.4972". Prompts stay short (a 135M model on two cores reads ~300 tokens in
about half a second).

**Choices, not free text.** Each setpoint gets five moves from its current value: hold, half or a
whole of its rate limit over the control step, either way (:func:`choice_grid`), lettered A–E and
clamped to the setpoint's range. Whatever the model answers, the action is one of them: valid by
construction, and never cut by the shield's rate limit.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from aidc.control.spaces import RATE_REFERENCE_S, ActionSpec, CoolingObservation

LETTERS = "ABCDE"
MOVES = (-1.0, -0.5, 0.0, 0.5, 1.0)
"""The choices per setpoint, as shares of its rate limit over one control step."""

LABELS = {
    "supply_air_temp_c": "supply air",
    "chw_supply_temp_c": "chilled water",
    "economizer_lockout_wetbulb_c": "economizer lockout wet-bulb",
    "facility_supply_temp_c": "facility water supply",
    "flow_frac": "coolant flow",
}
"""How the prompt and the rationale name each setpoint."""

TASK = (
    "You set the cooling of a GPU hall every {minutes:g} minutes. Goal: use as little cooling energy as "
    "possible while the hottest GPU stays at least {margin:g} K below its slowdown temperature "
    "({slowdown:g} °C). Warmer water or air and less flow save energy; colder and more flow protect "
    "the GPUs. For each setpoint answer with one letter."
)


def choice_grid(spec: ActionSpec, current: float, control_step_s: float) -> np.ndarray:
    """The five values a setpoint may take next: :data:`MOVES` of its rate limit over the step,
    clamped to its range."""
    step = spec.max_step * control_step_s / RATE_REFERENCE_S
    return np.clip(current + step * np.array(MOVES), spec.low, spec.high)


def fmt(value: float, unit: str) -> str:
    """The translator: one decimal for temperatures and powers, two for shares."""
    if unit == "-":
        return f"{value:.2f}"
    return f"{value:.1f} {unit}" if unit else f"{value:.1f}"


def describe_state(obs: CoolingObservation, setpoints: np.ndarray, specs: tuple[ActionSpec, ...]) -> str:
    outdoor = f"outdoor {obs.outdoor_dry_bulb_c:.1f} °C (wet-bulb {obs.outdoor_wet_bulb_c:.1f})"
    gpus = f"GPUs median {obs.gpu_temp_median_c:.1f} / hottest {obs.gpu_temp_max_c:.1f} °C"
    now = chosen_text(setpoints, specs)
    return f"{outdoor}, IT {obs.it_power_kw:.0f} kW, {gpus}, hour {obs.hour_of_day:.0f}; {now}"


@dataclass(frozen=True)
class Step:
    """One past control step as the prompt tells it: the state, the setpoints chosen, the outcome."""

    state: str
    chosen: str
    cooling_kw: float
    gpu_after_c: float

    def line(self) -> str:
        outcome = f"cooling {self.cooling_kw:.0f} kW, hottest GPU {self.gpu_after_c:.1f} °C"
        return f"- {self.state} → set {self.chosen}; then {outcome}"


class RecentSteps:
    """The rolling buffer of the last ``size`` steps and their outcomes."""

    def __init__(self, size: int = 2):
        self.steps: deque[Step] = deque(maxlen=size)

    def clear(self) -> None:
        self.steps.clear()

    def add(self, step: Step) -> None:
        self.steps.append(step)


def chosen_text(values: np.ndarray, specs: tuple[ActionSpec, ...]) -> str:
    return ", ".join(
        f"{LABELS.get(s.name, s.name)} {fmt(v, s.unit)}" for s, v in zip(specs, values, strict=True)
    )


def build_prompt(
    obs: CoolingObservation,
    setpoints: np.ndarray,
    specs: tuple[ActionSpec, ...],
    *,
    control_step_s: float,
    margin_k: float,
    demonstrations: list[Step],
    recent: list[Step],
) -> tuple[str, str, list[tuple[str, np.ndarray]]]:
    """(system text, user text, per setpoint: its question line and its five values)."""
    system = TASK.format(minutes=control_step_s / 60.0, margin=margin_k, slowdown=obs.gpu_slowdown_temp_c)
    parts = []
    if demonstrations:
        parts.append(
            "Similar past states and what an expert did:\n" + "\n".join(d.line() for d in demonstrations)
        )
    if recent:
        parts.append("Your last steps:\n" + "\n".join(r.line() for r in recent))
    parts.append("Now: " + describe_state(obs, setpoints, specs))
    questions = []
    for s, cur in zip(specs, setpoints, strict=True):
        grid = choice_grid(s, float(cur), control_step_s)
        options = " ".join(f"{letter}) {fmt(v, s.unit)}" for letter, v in zip(LETTERS, grid, strict=True))
        questions.append((f"{LABELS.get(s.name, s.name)}: {options}", grid))
    return system, "\n\n".join(parts), questions


class Demonstrations:
    """Demonstrations by nearest state from an offline-RL log (:mod:`aidc.control.datasets`): of the
    ``pool`` logged steps nearest the current state (outdoor conditions, IT power, hottest GPU and
    the setpoints, each scaled by its spread in the log), the ``k`` with the best reward, told as
    :class:`Step` lines (cooling power from the reward of steps without a thermal penalty)."""

    FEATURES = (0, 1, 2, 5)  # outdoor dry and wet bulb, IT power, hottest GPU (observation_vector order)

    def __init__(
        self, data, specs: tuple[ActionSpec, ...], control_step_s: float, k: int = 2, pool: int = 12
    ):
        n_obs = len(CoolingObservation.field_names())
        cols = [*self.FEATURES, *range(n_obs, n_obs + len(specs))]
        self.data, self.specs, self.k, self.pool = data, specs, k, pool
        self.step_h = control_step_s / 3600.0
        self.features = data.obs[:, cols].astype(np.float64)
        self.scale = np.maximum(self.features.std(axis=0), 1e-6)
        self.cols = cols

    def nearest(self, obs: CoolingObservation, setpoints: np.ndarray) -> list[Step]:
        here = np.array(
            [obs.outdoor_dry_bulb_c, obs.outdoor_wet_bulb_c, obs.it_power_kw, obs.gpu_temp_max_c, *setpoints]
        )
        d = np.linalg.norm((self.features - here) / self.scale, axis=1)
        near = np.argsort(d)[: self.pool]
        best = near[np.argsort(-self.data.rewards[near])][: self.k]
        return [self._step(int(i)) for i in best]

    def _step(self, i: int) -> Step:
        n_obs = len(CoolingObservation.field_names())
        row = self.data.obs[i]
        obs = CoolingObservation(*(float(x) for x in row[:n_obs]))
        low = np.array([s.low for s in self.specs])
        high = np.array([s.high for s in self.specs])
        chosen = low + (np.clip(self.data.actions[i], -1, 1) + 1.0) * 0.5 * (high - low)
        return Step(
            describe_state(obs, row[n_obs : n_obs + len(self.specs)], self.specs),
            chosen_text(chosen, self.specs),
            max(-float(self.data.rewards[i]), 0.0) / self.step_h,
            float(self.data.next_obs[i, 5]),
        )
