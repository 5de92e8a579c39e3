"""Energy storage: a battery's stored energy, its power and state-of-charge limits, its losses, and
a UPS battery's runtime at load.

Powers are at the bus the storage connects to (the AC bus behind a BESS inverter, the DC bus of a
UPS), positive when discharging to the load and negative when charging. The efficiencies are
one-way between the bus and the stored energy and include whatever converts between them (power
conversion system, charger, inverter). They apply the right way round: delivering P_out at the bus
takes P_out / η_discharge from the cells; charging with P_in at the bus stores P_in · η_charge.
Multiplying by η_discharge instead would create (1 − η)·P_out of energy on every discharge.

Self-discharge is a first-order loss in proportion to the stored energy, dE/dt = P_cells − λ·E,
integrated exactly over the step (exponential decay toward P_cells/λ). It is chosen over a linear
loss per step because the exact solution has the semigroup property: an hour in one step or in
3,600 gives the same state, so nothing depends on dt. The state-of-charge limits are applied
within the step at the instant they are reached: a discharge that reaches the floor stops there
and the battery idles (self-discharging) for the rest of the step; a charge that reaches the
ceiling holds it by float charging, drawing exactly the self-discharge λ·E_max, as a float-charged
battery does. Bus energy in − bus energy out = ΔE_stored + conversion losses + self-discharge to
rounding, every step.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

from aidc.units import J_PER_KWH

S_PER_H = 3600.0
"""Seconds in an hour."""
HOURS_PER_MONTH = 730.0
"""A mean month [h]: 8,760 h / 12."""

BATTERY_CHEMISTRY_PARAMETERS: dict[str, dict[str, float]] = {
    "li_ion_lfp": {
        "charge_efficiency": math.sqrt(0.85),
        "discharge_efficiency": math.sqrt(0.85),
        "self_discharge_frac_per_h": 0.02 / HOURS_PER_MONTH,
        "soc_min_frac": 0.15,
        "soc_max_frac": 0.95,
        "initial_soc_frac": 0.50,
        "peukert_exponent": 1.05,
        "rated_discharge_h": 5.0,
    },
    "lead_acid_vrla": {
        "charge_efficiency": math.sqrt(0.80),
        "discharge_efficiency": math.sqrt(0.80),
        "self_discharge_frac_per_h": 0.05 / HOURS_PER_MONTH,
        "soc_min_frac": 0.0,
        "soc_max_frac": 1.0,
        "initial_soc_frac": 1.0,
        "peukert_exponent": 1.25,
        "rated_discharge_h": 10.0,
    },
}
"""Default parameters per chemistry, splatted into :class:`BatterySpec` by ``for_chemistry``.

``li_ion_lfp`` (a utility-scale LFP BESS behind its inverter):

* efficiencies: round trip 85 % AC to AC, the value of NREL's Annual Technology Baseline,
  "Utility-Scale Battery Storage" (from Cole & Frazier, "Cost Projections for Utility-Scale
  Battery Storage: 2020 Update", NREL 2020); split evenly, √0.85 = 0.922 each way (a round trip
  cannot tell the split apart). The US fleet measured 82 % in 2019 (EIA, Today in Energy,
  February 2021, from its Power Plant Operations Report).
* self-discharge 2 %/month: lithium cells lose 2–3 %/month (D. Darling, Encyclopedia of
  Alternative Energy, "self discharge"); LFP sits at the low end.
* SoC window 15–95 %, initial 50 %: SAM's battery defaults (NREL PySAM 7.1 ``Battery``,
  ``batt_minimum_SOC``, ``batt_maximum_SOC``, ``batt_initial_SOC``).
* Peukert exponent 1.05, rated at 0.2C (5 h): the value battery monitors use for Li-ion when the
  cell's own is unknown (Victron Energy BMV-700 manual, setting 05 "Peukert exponent"); Omar et
  al., Energies 6 (2013) 5625, find Li-ion close to rate-independent over a narrow current range.
  Li-ion capacity is rated at 0.2 It (IEC 61960-3), the C_rate of PySAM's cell defaults too.

``lead_acid_vrla`` (a valve-regulated lead-acid UPS string on float charge):

* round trip 80 %: the Ah charge efficiency of 95 % (Victron BMV-700 manual, setting 06 "Charge
  Efficiency Factor") times the voltage ratio of discharge at ~2.0 V/cell to float or absorption
  charge at ~2.3–2.4 V/cell (typical lead-acid cell voltages: 0.95 · 2.0/2.35 = 0.81); split
  evenly, √0.80 = 0.894.
* self-discharge 5 %/month: lead-acid loses 4–6 %/month (Darling, as above).
* SoC window 0–100 %, initial 100 %: the rated capacity runs down to the end-of-discharge voltage,
  and a UPS string is kept full on float (IEEE Std 485, sizing lead-acid for stationary service).
* Peukert exponent 1.25, rated at the 10-h rate: Peukert (1897) measured lead-acid capacity falling
  with current; exponents of 1.1–1.3 are typical and 1.25 is the default battery monitors use for
  lead-acid (Victron BMV-700 manual, setting 05). Stationary lead-acid capacity is rated at C10
  (C10, IEC 60896-21).
"""


_LFP = BATTERY_CHEMISTRY_PARAMETERS["li_ion_lfp"]


def _check(name: str, value: float, unit: str, ok: bool, rule: str) -> None:
    if not ok:
        raise ValueError(f"BatterySpec.{name} = {value!r} {unit}: must be {rule}")


@dataclass(frozen=True)
class BatterySpec:
    """A battery's ratings. Energies are nominal [kWh]; the state of charge is stored energy over
    ``capacity_kwh`` [0–1]; powers are at the bus [kW]. Defaults are ``li_ion_lfp`` (see
    :data:`BATTERY_CHEMISTRY_PARAMETERS`); :meth:`for_chemistry` picks another set."""

    capacity_kwh: float  # nominal energy, state of charge 0 to 1
    max_charge_kw: float  # at the bus
    max_discharge_kw: float  # at the bus
    soc_min_frac: float = _LFP["soc_min_frac"]  # discharge stops here
    soc_max_frac: float = _LFP["soc_max_frac"]  # charge stops (holds on float) here
    charge_efficiency: float = _LFP["charge_efficiency"]  # one way, bus → stored
    discharge_efficiency: float = _LFP["discharge_efficiency"]  # one way, stored → bus
    self_discharge_frac_per_h: float = _LFP["self_discharge_frac_per_h"]  # of the stored energy [1/h]
    initial_soc_frac: float = _LFP["initial_soc_frac"]
    peukert_exponent: float = _LFP["peukert_exponent"]  # UPS runtime only [-]
    rated_discharge_h: float = _LFP["rated_discharge_h"]  # discharge time capacity_kwh is rated at [h]

    def __post_init__(self) -> None:
        finite = {k: v for k, v in asdict(self).items() if not math.isfinite(v)}
        for name, value in finite.items():
            _check(name, value, "", False, "finite")
        _check("capacity_kwh", self.capacity_kwh, "kWh", self.capacity_kwh > 0.0, "> 0")
        for name in ("max_charge_kw", "max_discharge_kw"):
            _check(name, getattr(self, name), "kW", getattr(self, name) >= 0.0, ">= 0")
        lo, hi = self.soc_min_frac, self.soc_max_frac
        _check("soc_min_frac", lo, "(0-1)", 0.0 <= lo < hi, f"in [0, soc_max_frac = {hi!r})")
        _check("soc_max_frac", hi, "(0-1)", hi <= 1.0, "<= 1")
        for name in ("charge_efficiency", "discharge_efficiency"):
            _check(name, getattr(self, name), "(0-1)", 0.0 < getattr(self, name) <= 1.0, "in (0, 1]")
        rate = self.self_discharge_frac_per_h
        _check("self_discharge_frac_per_h", rate, "1/h", 0.0 <= rate < 1.0, "in [0, 1)")
        init = self.initial_soc_frac
        _check("initial_soc_frac", init, "(0-1)", lo <= init <= hi, f"in [{lo}, {hi}] (the SoC limits)")
        _check("peukert_exponent", self.peukert_exponent, "-", self.peukert_exponent >= 1.0, ">= 1")
        _check("rated_discharge_h", self.rated_discharge_h, "h", self.rated_discharge_h > 0.0, "> 0")

    @classmethod
    def for_chemistry(
        cls,
        chemistry: str,
        capacity_kwh: float,
        max_charge_kw: float,
        max_discharge_kw: float,
        **overrides: float,
    ) -> BatterySpec:
        """A spec with the defaults of ``chemistry`` (a key of :data:`BATTERY_CHEMISTRY_PARAMETERS`)."""
        if chemistry not in BATTERY_CHEMISTRY_PARAMETERS:
            known = ", ".join(BATTERY_CHEMISTRY_PARAMETERS)
            raise ValueError(f"battery chemistry {chemistry!r} is not one of {known}")
        params = {**BATTERY_CHEMISTRY_PARAMETERS[chemistry], **overrides}
        return cls(capacity_kwh, max_charge_kw, max_discharge_kw, **params)

    @property
    def capacity_j(self) -> float:
        return self.capacity_kwh * J_PER_KWH

    @property
    def round_trip_efficiency(self) -> float:
        return self.charge_efficiency * self.discharge_efficiency


@dataclass(frozen=True)
class BatteryStep:
    """One step of a battery. Energies over the step [J]; the balance
    ``-bus_energy_j == stored_change_j + conversion_loss_j + self_discharge_loss_j`` holds."""

    bus_power_w: float  # mean over the step: > 0 delivered to the load, < 0 drawn to charge
    bus_energy_j: float  # bus_power_w · dt_s
    stored_change_j: float
    conversion_loss_j: float  # charge or discharge conversion, at the efficiencies
    self_discharge_loss_j: float
    stored_kwh: float  # at the step's end
    soc_frac: float  # at the step's end [0-1]
    power_limited: bool  # the request exceeded the charge or discharge rating
    soc_limited: bool  # the floor or ceiling stopped (part of) the request

    @property
    def losses_j(self) -> float:
        return self.conversion_loss_j + self.self_discharge_loss_j


def _one_minus_exp_over_x(x: float) -> float:
    """(1 − e^−x)/x, 1 at x = 0."""
    return 1.0 if x == 0.0 else -math.expm1(-x) / x


def _one_minus_that(x: float) -> float:
    """1 − (1 − e^−x)/x, without the cancellation at small x (Taylor series below 1e-3)."""
    if x < 1e-3:
        return x / 2.0 - x * x / 6.0 + x**3 / 24.0 - x**4 / 120.0
    return 1.0 - _one_minus_exp_over_x(x)


def self_discharge_exponential(
    stored_j: float, cell_power_w: float, rate_per_s: float, dt_s: float
) -> tuple[float, float]:
    """Change of the stored energy over ``dt_s`` [J] and the self-discharge in it [J], for
    dE/dt = P − λ·E.

    The exact solution for a constant net cell power ``cell_power_w`` (P, + into the cells) and a
    self-discharge rate λ = ``rate_per_s`` [1/s]: E(t) − E0 = E0·(e^−λt − 1) + P·φ with
    φ = (1 − e^−λt)/λ, and the loss ∫λE dt = λ·E0·φ + P·(t − φ); the two add up to P·t. The change
    is computed directly (not as E(t) − E0) so that it keeps its precision when it is small beside
    the stored energy. First-order self-discharge is the model behind a loss quoted as a share of
    the charge per month; its exact form makes the result independent of the step length.
    """
    x = rate_per_s * dt_s
    phi_s = dt_s * _one_minus_exp_over_x(x)
    change_j = stored_j * math.expm1(-x) + cell_power_w * phi_s
    loss_j = rate_per_s * stored_j * phi_s + cell_power_w * dt_s * _one_minus_that(x)
    return change_j, loss_j


def time_to_level_s(stored_j: float, level_j: float, cell_power_w: float, rate_per_s: float) -> float:
    """Time for dE/dt = P − λ·E to carry E from ``stored_j`` to ``level_j`` in the direction of P [s].

    0 when E is already at or past the level in that direction (and would go further); ``inf``
    when it never gets there (P = 0, or self-discharge balances P first: P/λ short of the level).
    From E(t) = E_eq + (E0 − E_eq)·e^−λt with E_eq = P/λ: t = ln(1 + λ(L − E0)/(P − λL))/λ,
    which is (L − E0)/P at λ = 0.
    """
    direction = math.copysign(1.0, cell_power_w) if cell_power_w != 0.0 else 0.0
    drive_w = cell_power_w - rate_per_s * level_j  # dE/dt at the level
    gap_j = level_j - stored_j
    if direction == 0.0:
        return math.inf
    if gap_j * direction < 0.0 or (gap_j == 0.0 and drive_w * direction > 0.0):
        return 0.0
    if drive_w * direction <= 0.0:
        return math.inf
    x = rate_per_s * gap_j / drive_w
    return gap_j / drive_w * (1.0 if x == 0.0 else math.log1p(x) / x)


def _bus_request(
    spec: BatterySpec, stored_j: float, power_request_w: float
) -> tuple[float, float, float, bool]:
    """The request cut to the power rating [W], the net power into the cells it makes [W], the
    state-of-charge limit it runs toward [J], and whether the battery is already past that limit
    (then no power flows)."""
    if power_request_w > 0.0:
        bus_w = min(power_request_w, spec.max_discharge_kw * 1e3)
        level_j = spec.soc_min_frac * spec.capacity_j
        cell_w = -bus_w / spec.discharge_efficiency
    else:
        bus_w = max(power_request_w, -spec.max_charge_kw * 1e3)
        level_j = spec.soc_max_frac * spec.capacity_j
        cell_w = -bus_w * spec.charge_efficiency
    if (level_j - stored_j) * cell_w < 0.0:  # below the floor or above the ceiling already
        return 0.0, 0.0, level_j, True
    return bus_w, cell_w, level_j, False


def battery_step(spec: BatterySpec, stored_kwh: float, power_request_w: float, dt_s: float) -> BatteryStep:
    """One step of a battery at a constant bus power request (+ discharge, − charge) [W].

    The request is cut to the power rating, then run until the state of charge reaches its floor
    or ceiling (:func:`time_to_level_s`), with self-discharge throughout
    (:func:`self_discharge_exponential`); after the floor the battery idles, at the ceiling it
    holds on float. Conversion losses: (1/η_d − 1) of the bus energy on discharge, (1 − η_c) of it
    on charge.
    """
    if not dt_s > 0.0:
        raise ValueError(f"dt_s = {dt_s!r} s: must be > 0")
    if not 0.0 <= stored_kwh <= spec.capacity_kwh:
        raise ValueError(
            f"stored_kwh = {stored_kwh!r} kWh: must be in [0, capacity_kwh = {spec.capacity_kwh}]"
        )
    rate_per_s = spec.self_discharge_frac_per_h / S_PER_H
    stored_j = stored_kwh * J_PER_KWH
    bus_w, cell_w, level_j, blocked = _bus_request(spec, stored_j, power_request_w)
    rating_kw = spec.max_discharge_kw if power_request_w > 0.0 else spec.max_charge_kw
    reach_s = time_to_level_s(stored_j, level_j, cell_w, rate_per_s)
    run_s = min(dt_s, reach_s)
    change_j, self_loss_j = self_discharge_exponential(stored_j, cell_w, rate_per_s, run_s)
    end_j = stored_j + change_j
    if cell_w != 0.0:  # never past the limit it runs toward, not even by a rounding
        end_j = min(end_j, level_j) if cell_w > 0.0 else max(end_j, level_j)
    bus_j = bus_w * run_s
    rest_s = dt_s - run_s
    if rest_s > 0.0:
        end_j = level_j  # reached exactly, by the definition of reach_s
        if cell_w > 0.0:  # float charge at the ceiling: the cells take exactly the self-discharge
            hold_w = rate_per_s * level_j
            bus_j -= hold_w / spec.charge_efficiency * rest_s
            self_loss_j += hold_w * rest_s
        else:  # discharge stopped at the floor: the battery idles
            idle_j, idle_loss_j = self_discharge_exponential(level_j, 0.0, rate_per_s, rest_s)
            end_j, change_j = level_j + idle_j, change_j + idle_j
            self_loss_j += idle_loss_j
    if bus_j > 0.0:
        conversion_j = bus_j * (1.0 / spec.discharge_efficiency - 1.0)
    else:
        conversion_j = -bus_j * (1.0 - spec.charge_efficiency)
    return BatteryStep(
        bus_power_w=bus_j / dt_s,
        bus_energy_j=bus_j,
        stored_change_j=change_j,
        conversion_loss_j=conversion_j,
        self_discharge_loss_j=self_loss_j,
        stored_kwh=min(end_j / J_PER_KWH, spec.capacity_kwh),  # kWh → J → kWh may round up
        soc_frac=end_j / spec.capacity_j,
        power_limited=abs(power_request_w) > rating_kw * 1e3,
        soc_limited=blocked or reach_s < dt_s,
    )


def peukert_runtime_s(
    load_w: float, capacity_wh: float, rated_discharge_h: float, peukert_exponent: float
) -> float:
    """Time a full battery carries a constant load to its end of discharge [s]: Peukert's law.

    W. Peukert, "Über die Abhängigkeit der Kapazität von der Entladestromstärke bei
    Bleiakkumulatoren", Elektrotechnische Zeitschrift (1897), in its rated form
    t = H · (C / (I·H))^k, with C the capacity rated over H hours and k the exponent; written in
    power (P ∝ I at the nearly constant voltage of a discharge) and energy. Below the rated rate
    the law promises more than the rated capacity, without bound as the current falls (Galushkin
    et al., J. Electrochem. Soc. 167 (2020) 120516; Doerffel & Sharkh, J. Power Sources 155 (2006)
    395 review its limits); the runtime there is capped at C/P, so no energy is created.
    """
    if load_w <= 0.0:
        return math.inf
    nominal_h = capacity_wh / load_w
    peukert_h = rated_discharge_h * (nominal_h / rated_discharge_h) ** peukert_exponent
    return min(peukert_h, nominal_h) * S_PER_H


def ups_runtime_s(spec: BatterySpec, load_w: float, stored_kwh: float | None = None) -> float:
    """Runtime of a UPS battery carrying ``load_w`` at the bus from ``stored_kwh`` to its floor [s].

    The cells supply load/η_discharge; Peukert's law (:func:`peukert_runtime_s`) gives the full
    battery's runtime at that power, scaled by the share of the rated capacity left above the
    floor (assumption: the rate loss applies pro rata to a partial discharge). Self-discharge is
    negligible over minutes and left out. A load above the discharge rating gets no runtime.
    """
    stored = spec.initial_soc_frac * spec.capacity_kwh if stored_kwh is None else stored_kwh
    if load_w > spec.max_discharge_kw * 1e3:
        return 0.0
    left_frac = max(stored / spec.capacity_kwh - spec.soc_min_frac, 0.0)
    cell_w = load_w / spec.discharge_efficiency
    full_s = peukert_runtime_s(cell_w, spec.capacity_kwh * 1e3, spec.rated_discharge_h, spec.peukert_exponent)
    return left_frac * full_s


@dataclass(frozen=True)
class BatteryState:
    """A battery after its last step."""

    stored_kwh: float
    soc_frac: float  # [0-1]
    bus_power_w: float  # last step's mean: > 0 discharging, < 0 charging
    losses_w: float  # last step's mean conversion and self-discharge losses
    power_limited: bool
    soc_limited: bool


@dataclass
class Battery:
    """A battery as a component: ``config()``, ``state()``, ``step()``; physics in :func:`battery_step`."""

    spec: BatterySpec
    stored_kwh: float = field(init=False)
    last: BatteryStep | None = field(init=False, default=None)
    _dt_s: float = field(init=False, default=1.0, repr=False)

    def __post_init__(self) -> None:
        self.stored_kwh = self.spec.initial_soc_frac * self.spec.capacity_kwh

    def config(self) -> dict[str, object]:
        return {**asdict(self.spec), "round_trip_efficiency": self.spec.round_trip_efficiency}

    def state(self) -> BatteryState:
        last, dt_s = self.last, self._dt_s
        return BatteryState(
            stored_kwh=self.stored_kwh,
            soc_frac=self.stored_kwh / self.spec.capacity_kwh,
            bus_power_w=last.bus_power_w if last else 0.0,
            losses_w=last.losses_j / dt_s if last else 0.0,
            power_limited=last.power_limited if last else False,
            soc_limited=last.soc_limited if last else False,
        )

    def step(self, power_request_w: float, dt_s: float) -> BatteryStep:
        """Run ``dt_s`` at a bus power request (+ discharge, − charge) [W]."""
        self.last = battery_step(self.spec, self.stored_kwh, power_request_w, dt_s)
        self._dt_s = dt_s
        self.stored_kwh = self.last.stored_kwh
        return self.last
