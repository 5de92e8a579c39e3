"""What the site's meter saw over a run: energy by source and sink, the 15-minute peak import, the
battery's state of charge, carbon and cost, demand-response events (:class:`SiteAccumulator`), and
the demand intervals both it and the facility's peak power are booked in (:func:`book_by_interval`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from aidc.units import J_PER_KWH

if TYPE_CHECKING:
    from aidc.facility.site import SiteOutputs

DEMAND_INTERVAL_S = 900.0
"""Utility demand is billed on the highest 15-minute average import (the common US demand
interval, e.g. Duke Energy Carolinas schedule LGS; FERC Form 1 peak demand is hourly)."""


def book_by_interval(
    bins: dict[int, float], t_s: float, dt: float, power_w: float, seconds: dict[int, float] | None = None
) -> None:
    """Add a step's energy at ``power_w`` to the demand intervals it spans (split at their edges),
    and, given ``seconds``, the time it spent in each."""
    t, end = t_s, t_s + dt
    while t < end:
        k = int(t // DEMAND_INTERVAL_S)
        upto = min(end, (k + 1) * DEMAND_INTERVAL_S)
        bins[k] = bins.get(k, 0.0) + power_w * (upto - t)
        if seconds is not None:
            seconds[k] = seconds.get(k, 0.0) + (upto - t)
        t = upto


_SITE_KEYS = (
    "grid_import", "pv", "pv_used", "pv_to_battery", "pv_exported", "pv_curtailed",
    "battery_discharge", "battery_charge", "battery_losses",
)  # fmt: skip


class SiteAccumulator:
    """Energy at the meter by source and sink, the 15-minute peak import, the battery's SoC range."""

    def __init__(self, annual_carbon_g_per_kwh: float | None = None) -> None:
        self.annual_carbon_g_per_kwh = annual_carbon_g_per_kwh  # the signals' year mean, if any
        self.energy_j = dict.fromkeys(_SITE_KEYS, 0.0)
        self.demand_j: dict[int, float] = {}  # import per demand interval of run time
        self.soc_min, self.soc_max = np.inf, -np.inf
        self.carbon_g = self.cost_usd = 0.0
        self.carbon_known = self.cost_known = False
        self.event_s = self.event_grid_j = self.event_excess_j = self.event_cap_j = self.event_tflop = 0.0

    def add_event(self, dt: float, o: SiteOutputs, cap_w: float, tflops: float) -> None:
        """A step under a demand-response cap: what the meter drew, what exceeded the cap, the work
        done (to compare with a run without the event: the call's quality-of-service cost)."""
        self.event_s += dt
        self.event_grid_j += o.grid_import_w * dt
        self.event_excess_j += max(o.grid_import_w - cap_w, 0.0) * dt
        self.event_cap_j += cap_w * dt
        self.event_tflop += tflops * dt

    def add(self, t_s: float, dt: float, o: SiteOutputs) -> None:
        e = self.energy_j
        for key, w in (
            ("grid_import", o.grid_import_w), ("pv", o.pv_w), ("pv_used", o.pv_used_w),
            ("pv_to_battery", o.pv_to_battery_w), ("pv_exported", o.pv_exported_w),
            ("pv_curtailed", o.pv_curtailed_w), ("battery_discharge", max(o.battery_w, 0.0)),
            ("battery_charge", max(-o.battery_w, 0.0)), ("battery_losses", o.battery_losses_w),
        ):  # fmt: skip
            e[key] += w * dt
        book_by_interval(self.demand_j, t_s, dt, o.grid_import_w)
        if o.carbon_g_per_kwh is not None:  # time-based: the hour's intensity × what the grid supplied
            self.carbon_g += o.carbon_g_per_kwh * o.grid_import_w * dt / J_PER_KWH
            self.carbon_known = True
        if o.price_usd_per_mwh is not None:
            self.cost_usd += o.price_usd_per_mwh * o.grid_import_w * dt / (1e3 * J_PER_KWH)
            self.cost_known = True
        if o.battery_soc_frac is not None:
            self.soc_min = min(self.soc_min, o.battery_soc_frac)
            self.soc_max = max(self.soc_max, o.battery_soc_frac)

    def summary(self, facility_j: float) -> dict[str, object]:
        e = self.energy_j
        out: dict[str, object] = {f"{k}_kwh": v / J_PER_KWH for k, v in e.items()}
        if facility_j:
            out["pv_share_of_facility_frac"] = e["pv_used"] / facility_j
            out["battery_share_of_facility_frac"] = e["battery_discharge"] / facility_j
        peak = max(self.demand_j.values(), default=0.0) / DEMAND_INTERVAL_S
        out["peak_grid_demand_15min_kw"] = peak / 1e3
        out["battery_soc_min_frac"] = self.soc_min if np.isfinite(self.soc_min) else None
        out["battery_soc_max_frac"] = self.soc_max if np.isfinite(self.soc_max) else None
        if self.carbon_known:
            out["grid_carbon_t"] = self.carbon_g / 1e6
            grid_kwh = e["grid_import"] / J_PER_KWH
            out["grid_carbon_mean_g_per_kwh"] = self.carbon_g / grid_kwh if grid_kwh else None
            if self.annual_carbon_g_per_kwh is not None:  # location-based: the year's mean intensity
                out["grid_carbon_annual_mean_t"] = grid_kwh * self.annual_carbon_g_per_kwh / 1e6
        if self.cost_known:
            out["grid_energy_cost_usd"] = self.cost_usd
        if self.event_s:
            out["dr_event_h"] = self.event_s / 3600.0
            out["dr_grid_mean_kw"] = self.event_grid_j / self.event_s / 1e3
            out["dr_cap_mean_kw"] = self.event_cap_j / self.event_s / 1e3
            out["dr_excess_kwh"] = self.event_excess_j / J_PER_KWH
            out["dr_pflop_delivered"] = self.event_tflop / 1e3
        return out
