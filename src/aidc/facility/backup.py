"""Emergency power: the UPS battery that carries the IT through a utility outage until the
generator has taken the load, and its recharge afterwards.

The UPS battery is a :class:`~aidc.facility.storage.Battery` (valve-regulated lead-acid on float
by default) drained at the high rates of a ride-through. At such rates a battery delivers less
than its rated energy (Peukert's law, :func:`~aidc.facility.storage.peukert_runtime_s`): the
cells give up m = (P_cells / P_rated)^(k−1) joules per joule they would give at the rated rate
(P_rated = capacity / rated discharge time, k the Peukert exponent), so a full battery at a
constant load lasts exactly Peukert's runtime. The surplus drain is booked as a rate loss: at a
lower rate later the capacity would be there again, which this per-step model leaves out (it
recharges it from the grid instead, a conservative bias). m is held at 1 below the rated rate,
so no energy is created.
"""

from __future__ import annotations

from dataclasses import dataclass

from aidc.facility.storage import Battery, BatterySpec, ups_runtime_s

UPS_RECHARGE_FRAC_OF_RATED = 0.1
"""UPS charger power as a share of the UPS's rated power (assumption: a charger that restores a
battery discharged for a few minutes within ten times the discharge time, the usual datasheet
recharge specification)."""


def ups_battery_spec(rated_w: float, runtime_s: float, chemistry_params: dict[str, float]) -> BatterySpec:
    """A UPS battery sized to carry ``rated_w`` at its bus for ``runtime_s`` from full.

    Inverts Peukert's runtime t = H·(C/(P_c·H))^k for the capacity C at the cells' power
    P_c = P/η_discharge: C = P_c·H·(t/H)^(1/k), above the nominal P_c·t as a high-rate discharge
    needs."""
    eta = chemistry_params["discharge_efficiency"]
    hours = chemistry_params["rated_discharge_h"]
    k = chemistry_params["peukert_exponent"]
    cell_w = rated_w / eta
    t_h = runtime_s / 3600.0
    capacity_wh = max(cell_w * hours * (t_h / hours) ** (1.0 / k), cell_w * t_h)
    usable = chemistry_params["soc_max_frac"] - chemistry_params["soc_min_frac"]
    capacity_kwh = capacity_wh / 1e3 / usable
    # the rating bounds the drain at the bus, Peukert's surplus included (see BackupPower.step)
    surplus = max((cell_w / (capacity_kwh * 1e3 / hours)) ** (k - 1.0), 1.0)
    return BatterySpec(
        capacity_kwh=capacity_kwh,
        max_charge_kw=rated_w * UPS_RECHARGE_FRAC_OF_RATED / 1e3,
        max_discharge_kw=rated_w * surplus / 1e3,
        **chemistry_params,
    )


def peukert_drain_factor(spec: BatterySpec, bus_w: float) -> float:
    """Joules the cells give up per joule at the rated rate, at bus power ``bus_w``: ≥ 1."""
    if bus_w <= 0.0:
        return 1.0
    rated_cell_w = spec.capacity_kwh * 1e3 / spec.rated_discharge_h
    return max((bus_w / spec.discharge_efficiency / rated_cell_w) ** (spec.peukert_exponent - 1.0), 1.0)


@dataclass(frozen=True)
class BackupStep:
    """One step of the emergency power system; powers are means over the step [W]."""

    ups_w: float  # delivered by the UPS battery to its load
    ups_charge_w: float  # drawn to recharge it (from the utility or the generator)
    ups_losses_w: float  # conversion, self-discharge and the high-rate (Peukert) surplus
    ups_soc_frac: float  # at the step's end [0–1]
    ups_empty_s: float | None  # when, within the step, the UPS ran out [s from its start]; None: it did not


@dataclass
class BackupPower:
    """The UPS battery, and when the generator takes the load; ``config()``, ``state()``,
    ``step()``. (What the generator supplies is the site's load while it runs.)"""

    battery: Battery
    generator_start_s: float
    _last: BackupStep | None = None

    def config(self) -> dict[str, object]:
        start = self.generator_start_s if self.generator_start_s < float("inf") else None  # no generator
        return {"ups_battery": self.battery.config(), "generator_start_s": start}

    def state(self) -> BackupStep | None:
        return self._last

    def time_left_s(self, load_w: float) -> float:
        """How long the UPS carries ``load_w`` from its present charge [s] (Peukert)."""
        return ups_runtime_s(self.battery.spec, load_w, self.battery.stored_kwh)

    def step(self, dt_s: float, ups_load_w: float, ups_only_frac: float) -> BackupStep:
        """Run ``dt_s``: the UPS carries ``ups_load_w`` for ``ups_only_frac`` of the step (the
        outage before the generator is on), then recharges for the rest (from the utility or the
        generator, whichever is on)."""
        spec = self.battery.spec
        delivered_j = losses_j = charge_j = 0.0
        empty_s = None
        on_battery_s = ups_only_frac * dt_s
        if on_battery_s > 0.0 and ups_load_w > 0.0:
            left = self.time_left_s(ups_load_w)
            m = peukert_drain_factor(spec, ups_load_w)
            b = self.battery.step(ups_load_w * m, on_battery_s)
            delivered_j = b.bus_energy_j / m
            losses_j = b.losses_j + b.bus_energy_j - delivered_j
            empty_s = left if left < on_battery_s else None
        rest_s = dt_s - on_battery_s
        full = self.battery.stored_kwh >= spec.soc_max_frac * spec.capacity_kwh * (1.0 - 1e-12)
        if rest_s > 0.0 and not full:  # recharging (at full charge the UPS's float charger,
            # part of its measured losses in the power chain, holds it there)
            b = self.battery.step(-spec.max_charge_kw * 1e3, rest_s)
            charge_j, losses_j = -b.bus_energy_j, losses_j + b.losses_j
        self._last = BackupStep(
            ups_w=delivered_j / dt_s,
            ups_charge_w=charge_j / dt_s,
            ups_losses_w=losses_j / dt_s,
            ups_soc_frac=self.battery.stored_kwh / spec.capacity_kwh,
            ups_empty_s=empty_s,
        )
        return self._last
