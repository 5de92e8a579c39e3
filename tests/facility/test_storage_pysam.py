"""Our battery against NREL PySAM's ``BatteryStateful`` (SAM's battery cell model), the trusted
reference: the same day of 5-minute bus power requests drives both, and the state of charge must
agree within 1 percentage point at every step.

Configuration. PySAM: its ``LFPGraphite`` defaults, a 1,000 kWh / 1,000 V pack, SoC window 15–95 %
from 50 % (the defaults of SAM's ``Battery`` module, also ours), controlled by power. Two things
our spec does not model are switched off in PySAM: capacity against temperature (``cap_vs_temp``
made flat; the pack's 1–5 K of self-heating over the day would move its capacity by ~1 % through
the default table) and calendar and cycle fade. PySAM's capacity model has no self-discharge (its
charge moves only with the current), so ours is 0 here.

FITTED (on two calibration runs of PySAM, never on the day profile): ``capacity_kwh`` is the bus
energy of a slow (50 kW, C/22) charge and discharge across the 80-point window, averaged (the
first-order losses cancel) and divided by 0.80; ``charge_efficiency`` and ``discharge_efficiency``
are that stored energy over the bus energy in, and the bus energy out over it, of a 150 kW cycle.
PREDICTED: the state of charge over the day. TAKEN as configured: the SoC window and initial SoC.

Why not exact. PySAM's SoC is charge (Ah) over capacity; ours is energy over capacity. Its
Tremblay cell voltage runs from ~3.65 V near the floor to ~4.04 V near the ceiling (mean ~3.96 V),
so a SoC point holds from ~8 % less to ~2 % more energy than the window's mean, which a constant
``capacity_kwh`` cannot follow: the gap depends on where the SoC has travelled, up to 0.68 points
on this day with the default cell, and the models meet again at the floor and ceiling. PySAM's
losses are I²R, so its efficiency falls with power where ours is constant: this adds little at
the cell's default 2 mΩ (round trip 99.85 %, worst gap 0.68 points) and at 100× that (0.2 Ω,
97 %, 0.72 points), but at 250× (0.5 Ω) PySAM's one-way efficiency over a full cycle runs from
98.6 % at 60 kW to 94 % at 250 kW; fitted at 150 kW ours misses by 1.08 points (by 2.4–3.6 points
fitted at 60, 100 or 250 kW), so that case is not tested: one constant efficiency cannot follow an
I²R loss across a 0.06–0.25C profile to within 1 point.
"""

import numpy as np
import pytest

from aidc.facility.storage import BatterySpec, battery_step

bs = pytest.importorskip("PySAM.BatteryStateful")

DT_H = 5.0 / 60.0
SOC_MIN_PCT, SOC_MAX_PCT, SOC_INIT_PCT = 15.0, 95.0, 50.0
WINDOW_FRAC = (SOC_MAX_PCT - SOC_MIN_PCT) / 100.0
NO_FADE = ((20.0, 0.0, 100.0), (20.0, 1e4, 100.0), (80.0, 0.0, 100.0), (80.0, 1e4, 100.0))


def pysam_battery(resistance_ohm: float | None, initial_soc_pct: float):
    b = bs.default("LFPGraphite")
    b.Controls.control_mode = 1  # power
    b.Controls.dt_hr = DT_H
    b.Controls.input_power = 0.0
    b.ParamsCell.initial_SOC = initial_soc_pct
    b.ParamsCell.minimum_SOC = SOC_MIN_PCT
    b.ParamsCell.maximum_SOC = SOC_MAX_PCT
    b.ParamsCell.calendar_choice = 0
    b.ParamsCell.cycling_matrix = NO_FADE
    b.ParamsPack.nominal_energy = 1000.0
    b.ParamsPack.nominal_voltage = 1000.0
    b.ParamsPack.cap_vs_temp = ((-20.0, 100.0), (60.0, 100.0))
    if resistance_ohm is not None:
        b.ParamsCell.resistance = resistance_ohm
    b.setup()
    return b


def pysam_step(b, power_kw: float) -> tuple[float, float]:
    """One step at ``power_kw`` (+ discharge): the SoC after it [%] and the bus energy [kWh]."""
    b.Controls.input_power = float(power_kw)
    b.execute(0)
    return b.StatePack.SOC, b.StatePack.P * DT_H


def pysam_until_limit(b, power_kw: float) -> float:
    """Run at ``power_kw`` until the SoC reaches its floor or ceiling; the bus energy [kWh]."""
    energy_kwh = 0.0
    for _ in range(10_000):
        soc_pct, e_kwh = pysam_step(b, power_kw)
        energy_kwh += e_kwh
        at_floor = power_kw > 0 and soc_pct <= SOC_MIN_PCT + 1e-9
        if at_floor or (power_kw < 0 and soc_pct >= SOC_MAX_PCT - 1e-9):
            return energy_kwh
    raise AssertionError("PySAM never reached its SoC limit")


def fitted_spec(resistance_ohm: float | None) -> BatterySpec:
    """Our spec with capacity and efficiencies fitted on PySAM calibration runs (module docstring)."""
    b = pysam_battery(resistance_ohm, SOC_MIN_PCT)
    slow_in_kwh, slow_out_kwh = -pysam_until_limit(b, -50.0), pysam_until_limit(b, 50.0)
    capacity_kwh = (slow_in_kwh + slow_out_kwh) / 2.0 / WINDOW_FRAC
    b = pysam_battery(resistance_ohm, SOC_MIN_PCT)
    in_kwh, out_kwh = -pysam_until_limit(b, -150.0), pysam_until_limit(b, 150.0)
    stored_kwh = WINDOW_FRAC * capacity_kwh
    return BatterySpec(
        capacity_kwh,
        max_charge_kw=250.0,
        max_discharge_kw=250.0,
        soc_min_frac=SOC_MIN_PCT / 100.0,
        soc_max_frac=SOC_MAX_PCT / 100.0,
        charge_efficiency=min(stored_kwh / in_kwh, 1.0),
        discharge_efficiency=min(out_kwh / stored_kwh, 1.0),
        self_discharge_frac_per_h=0.0,
        initial_soc_frac=SOC_INIT_PCT / 100.0,
    )


def day_profile_kw() -> np.ndarray:
    """A day of 5-minute bus power requests [kW], + discharge: charge overnight into the ceiling,
    a rippled morning discharge, a midday charge, quarter-hour partial cycles, an evening peak
    down to the floor, and a recharge."""
    h = np.arange(288) * DT_H
    p = np.zeros_like(h)
    p[h < 6] = -150.0
    morning = (h >= 8) & (h < 11)
    p[morning] = 100.0 + 50.0 * np.sin(2 * np.pi * (h[morning] - 8) / 1.5)
    p[(h >= 11) & (h < 13)] = -80.0
    cycles = (h >= 13) & (h < 16)
    p[cycles] = np.where(np.floor((h[cycles] - 13) * 4) % 2 == 0, 60.0, -60.0)
    p[(h >= 16) & (h < 20)] = 250.0
    p[h >= 20] = -120.0
    return p


def soc_gap_pct(resistance_ohm: float | None) -> np.ndarray:
    """Our SoC minus PySAM's at every step of the day [percentage points]."""
    spec, b = fitted_spec(resistance_ohm), pysam_battery(resistance_ohm, SOC_INIT_PCT)
    stored_kwh, gap = spec.initial_soc_frac * spec.capacity_kwh, []
    for power_kw in day_profile_kw():
        ours = battery_step(spec, stored_kwh, power_kw * 1e3, DT_H * 3600.0)
        stored_kwh = ours.stored_kwh
        gap.append(100.0 * ours.soc_frac - pysam_step(b, power_kw)[0])
    return np.array(gap)


def test_the_profile_reaches_both_limits_and_cycles():
    p = day_profile_kw()
    assert p.size == 288 and p.max() == 250.0 and p.min() == -150.0
    assert np.count_nonzero(np.diff(np.sign(p[(p != 0)])) != 0) >= 10  # partial cycles


@pytest.mark.parametrize(
    "resistance_ohm",
    [None, 0.2],
    ids=["default-cell-2mOhm", "lossy-cell-0.2Ohm"],
)
def test_soc_tracks_pysam_within_one_point_all_day(resistance_ohm):
    gap = np.abs(soc_gap_pct(resistance_ohm))
    assert gap.max() < 1.0, f"worst SoC gap {gap.max():.3f} points at step {gap.argmax()}"


def test_the_fit_is_physical():
    spec = fitted_spec(None)
    # kWh per SoC point follows the cells' mean voltage (~4 V), above the 3.6 V nameplate
    assert 1050.0 < spec.capacity_kwh < 1150.0
    assert 0.99 < spec.round_trip_efficiency <= 1.0
    lossy = fitted_spec(0.2)
    assert lossy.charge_efficiency < spec.charge_efficiency
    assert lossy.discharge_efficiency < spec.discharge_efficiency
