"""The site's meter: the facility's load met by on-site PV, a battery and the grid.

PV (:mod:`aidc.facility.solar`) and the battery (:mod:`aidc.facility.storage`) are AC-coupled at
the utility meter, the point where the power chain's facility power is measured: what the IT,
cooling and distribution losses draw is met first from PV, then from the battery as its dispatch
policy asks, and the rest from the grid; PV that neither the load nor the battery takes is
exported (or curtailed where export is not allowed). Every step closes its balance exactly:

    grid_w + pv_w + battery_w = facility_w + pv_exported_w + pv_curtailed_w
    pv_w = pv_used_w + pv_to_battery_w + pv_exported_w + pv_curtailed_w

(``battery_w`` > 0 discharging, < 0 charging; ``grid_w`` is import, what a charge beyond the PV
surplus draws included.)

.. warning:: The PV inverter and the battery's power-conversion system connect at the meter
   without transformer or wiring losses of their own (PVWatts' 14 % system losses include the
   array's wiring; the battery's one-way efficiencies include its converter).

Dispatch policies (:data:`DISPATCH`) decide the battery's request each step from the step's mean
facility and PV power (both known when the site steps, after the power chain):

* ``self_consumption``: charge from PV surplus only, discharge to cover what PV does not (the
  standard behind-the-meter rule, e.g. Tesla Powerwall "self-powered" mode; PySAM's battery
  dispatch option "PV self-consumption");
* ``peak_shaving``: discharge so that grid import stays at or below ``grid_limit_w``, recharge from
  PV and then from the grid while import is below it (a demand-charge controller's rule).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from aidc.facility.grid import GridSignals
from aidc.facility.solar import PVPlant
from aidc.facility.storage import Battery


@dataclass(frozen=True)
class SiteOutputs:
    """One step at the meter; powers are the step's means [W]."""

    facility_w: float  # what the power chain draws
    pv_w: float  # PV AC output
    pv_used_w: float  # PV that met the load
    pv_to_battery_w: float  # PV that charged the battery (at the bus)
    pv_exported_w: float
    pv_curtailed_w: float
    battery_w: float  # at the bus: > 0 discharging to the load, < 0 charging
    battery_losses_w: float  # conversion and self-discharge
    battery_soc_frac: float | None  # at the step's end [0-1]; None without a battery
    grid_w: float  # import > 0 (export is pv_exported_w)
    carbon_g_per_kwh: float | None = None  # the grid's mean intensity over the step, if known
    price_usd_per_mwh: float | None = None  # the grid's mean price over the step, if known

    @property
    def grid_import_w(self) -> float:
        return max(self.grid_w, 0.0)


# (net load after PV, the battery's charge rating at the bus, the grid limit) [W] → the battery's
# request at the bus [W] (> 0 discharge); the battery itself holds it to its ratings and SoC.
Dispatch = Callable[[float, float, float], float]


def dispatch_self_consumption(net_w: float, max_charge_w: float, limit_w: float) -> float:
    """Discharge what PV leaves uncovered, charge with what it leaves over [W]."""
    return net_w


def dispatch_peak_shaving(net_w: float, max_charge_w: float, limit_w: float) -> float:
    """Discharge what exceeds the grid limit; below it, charge with the headroom [W]."""
    if net_w > limit_w:
        return net_w - limit_w
    return -min(limit_w - net_w, max_charge_w)


def dispatch_demand_response(net_w: float, max_charge_w: float, limit_w: float) -> float:
    """During a demand-response call: discharge what exceeds the limit, charge from PV surplus
    only (charging from the grid would spend the reduction the call asks for) [W]."""
    return max(net_w - limit_w, 0.0) if net_w > 0.0 else net_w


DISPATCH: dict[str, Dispatch] = {
    "self_consumption": dispatch_self_consumption,
    "peak_shaving": dispatch_peak_shaving,
}


class Site:
    """PV, a battery and the grid at the meter; ``config()``, ``state()``, ``step()``."""

    def __init__(
        self,
        pv: PVPlant | None,
        battery: Battery | None,
        dispatch: str = "self_consumption",
        grid_limit_w: float = float("inf"),
        export_allowed: bool = True,
        signals: GridSignals | None = None,
        start_hour_of_year: float = 0.0,
    ):
        if dispatch not in DISPATCH:
            raise ValueError(f"dispatch {dispatch!r} is not one of {', '.join(DISPATCH)}")
        self.pv, self.battery, self.dispatch = pv, battery, dispatch
        self._rule = DISPATCH[dispatch]
        self.grid_limit_w, self.export_allowed = grid_limit_w, export_allowed
        self.signals, self.start_hour_of_year = signals, start_hour_of_year
        self._last: SiteOutputs | None = None
        # a controller's battery request at the bus [W] (+ discharge), held until changed; None:
        # the dispatch policy decides (aidc.control.site_env sets it)
        self.battery_command_w: float | None = None

    def config(self) -> dict[str, object]:
        return {
            "pv": self.pv.config() if self.pv else None,
            "battery": self.battery.config() if self.battery else None,
            "dispatch": self.dispatch,
            "grid_limit_w": self.grid_limit_w if math.isfinite(self.grid_limit_w) else None,  # JSON
            "export_allowed": self.export_allowed,
            "grid_signals": self.signals.config() if self.signals else None,
        }

    def state(self) -> SiteOutputs | None:
        return self._last

    def step(
        self,
        t_s: float,
        dt_s: float,
        facility_w: float,
        event_cap_w: float | None = None,
        grid_up_frac: float = 1.0,
    ) -> SiteOutputs:
        """Meet ``facility_w`` over ``[t_s, t_s + dt_s)``. During a demand-response event
        (``event_cap_w``, the grid import limit) the battery discharges whatever exceeds the cap
        and charges only from PV surplus, whatever its dispatch policy. While the utility is out
        (the share ``1 − grid_up_frac`` of the step; ``facility_w`` is then what the meter sees
        over the rest, as a mean over the whole step) the PV inverters stay off: grid-following
        inverters must cease to energize an island within 2 s (IEEE 1547-2018, §8.1); the battery
        follows its rule on the step's means, so it too works over the utility's share only."""
        pv_w = self.pv.step(t_s, dt_s).ac_power_w * grid_up_frac if self.pv else 0.0
        net_w = facility_w - pv_w  # < 0: PV surplus
        battery_w = losses_w = 0.0
        soc = None
        if self.battery is not None:
            rule, limit_w = (self._rule, self.grid_limit_w)
            if event_cap_w is not None:
                rule, limit_w = dispatch_demand_response, min(event_cap_w, self.grid_limit_w)
            request = rule(net_w, self.battery.spec.max_charge_kw * 1e3, limit_w)
            b = self.battery.step(request if self.battery_command_w is None else self.battery_command_w, dt_s)
            battery_w, losses_w, soc = b.bus_power_w, b.losses_j / dt_s, b.soc_frac
        pv_used = min(pv_w, facility_w)
        surplus = pv_w - pv_used
        pv_to_battery = min(surplus, max(-battery_w, 0.0))
        left = surplus - pv_to_battery
        exported, curtailed = (left, 0.0) if self.export_allowed else (0.0, left)
        # what the load and any charging beyond PV draw from the grid; export is booked apart
        grid_w = facility_w - pv_used - battery_w - pv_to_battery
        carbon = price = None
        if self.signals is not None:  # exact means over the step (hourly values held)
            carbon, price = self.signals.mean(self.start_hour_of_year + t_s / 3600.0, dt_s / 3600.0)
        self._last = SiteOutputs(
            facility_w, pv_w, pv_used, pv_to_battery, exported, curtailed, battery_w, losses_w, soc, grid_w,
            carbon, price,
        )  # fmt: skip
        return self._last
