"""Electric chillers: the DOE-2 / EnergyPlus Chiller:Electric:EIR model and curve sets.

Data (:data:`CHILLER_CURVES`, each set with its EnergyPlus source) and pure functions; the schema
imports the curve names from here, so this module imports nothing of aidc's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ChillerCurves:
    """Performance curves of an electric chiller in the DOE-2 form EnergyPlus uses.

    ``cap_ft`` and ``eir_ft`` are biquadratics in the leaving chilled-water temperature x and
    the entering condenser-water temperature y: c0 + c1·x + c2·x² + c3·y + c4·y² + c5·x·y;
    ``eir_fplr`` is a quadratic in part-load ratio. Inputs are clamped to the curve's validity
    box, as EnergyPlus does (Engineering Reference, "Electric Chiller Model Based on Condenser
    Entering Temperature").
    """

    name: str
    cop_ref: float
    cap_ft: tuple[float, float, float, float, float, float]
    eir_ft: tuple[float, float, float, float, float, float]
    eir_fplr: tuple[float, float, float]
    chws_range_c: tuple[float, float]
    cond_range_c: tuple[float, float]
    plr_min: float
    source: str


CHILLER_CURVES: dict[str, ChillerCurves] = {
    "doe2-centrifugal-5.50cop": ChillerCurves(
        name="DOE-2 Centrifugal/5.50COP",
        cop_ref=5.5,
        cap_ft=(0.257896, 0.0389016, -0.00021708, 0.0468684, -0.00094284, -0.00034344),
        eir_ft=(0.933884, -0.058212, 0.00450036, 0.00243, 0.000486, -0.001215),
        eir_fplr=(0.222903, 0.313387, 0.46371),
        chws_range_c=(5.0, 10.0),
        cond_range_c=(24.0, 35.0),
        plr_min=0.1,
        source="EnergyPlus DataSets/Chillers.idf, 'DOE-2 Centrifugal/5.50COP'",
    ),
    "mcquay-pfh-2124kw-6.03cop": ChillerCurves(
        name="ElectricEIRChiller McQuay PFH 2124kW/6.03COP/Vanes",
        cop_ref=6.03,
        cap_ft=(1.040134, -0.0174565, 0.001084856, 0.006629328, -0.0008008991, 0.001567769),
        eir_ft=(1.157799, -0.03621524, -0.003684818, -0.01202959, -7.378548e-05, 0.003787365),
        eir_fplr=(0.1051419, 0.2033679, 0.6902026),
        chws_range_c=(5.56, 8.89),
        cond_range_c=(12.78, 29.44),
        plr_min=0.09,
        source="EnergyPlus DataSets/Chillers.idf, 'ElectricEIRChiller McQuay PFH 2124kW/6.03COP/Vanes'",
    ),
}


def _biquadratic(c: tuple[float, ...], x: float, y: float) -> float:
    return c[0] + c[1] * x + c[2] * x * x + c[3] * y + c[4] * y * y + c[5] * x * y


def _in_validity_box(curves: ChillerCurves, chws_c: float, cond_c: float) -> tuple[float, float]:
    """The curve inputs clamped to their validity box, as EnergyPlus does."""
    x = min(max(chws_c, curves.chws_range_c[0]), curves.chws_range_c[1])
    y = min(max(cond_c, curves.cond_range_c[0]), curves.cond_range_c[1])
    return x, y


def chiller_power_doe2(
    load_w: float,
    capacity_ref_w: float,
    chws_temp_c: float,
    cond_entering_temp_c: float,
    curves: ChillerCurves,
) -> tuple[float, float]:
    """Electric power of one chiller meeting ``load_w`` [W], and its part-load ratio.

    P = (Q_avail / COP_ref) · EIR(T) · EIR(PLR) · cycling, with Q_avail = Q_ref · CAP(T) and
    PLR = Q / Q_avail (DOE-2.1E; EnergyPlus Engineering Reference, Chiller:Electric:EIR). Below
    ``plr_min`` the chiller cycles: EIR(PLR) is taken at ``plr_min`` and power scaled by
    PLR/plr_min. Loads above the available capacity are met at PLR = 1 and the shortfall is the
    caller's to handle (the plant stages another unit first).
    """
    if load_w <= 0.0:
        return 0.0, 0.0
    x, y = _in_validity_box(curves, chws_temp_c, cond_entering_temp_c)
    q_avail = capacity_ref_w * max(_biquadratic(curves.cap_ft, x, y), 1e-6)
    plr = min(load_w / q_avail, 1.0)
    p_eval = max(plr, curves.plr_min)
    a, b, c = curves.eir_fplr
    eir_plr = a + b * p_eval + c * p_eval * p_eval
    cycling = min(plr / curves.plr_min, 1.0)
    power = q_avail / curves.cop_ref * _biquadratic(curves.eir_ft, x, y) * eir_plr * cycling
    return power, plr


def chiller_plant_power(
    load_w: float,
    unit_capacity_w: float,
    units: int,
    chws_temp_c: float,
    cond_entering_temp_c: float,
    curves: ChillerCurves,
) -> float:
    """Power of a plant of identical chillers sharing the load equally [W].

    Staging: the fewest units whose combined available capacity covers the load run, each at
    the same part-load ratio (the usual lead/lag sequencing).
    """
    if load_w <= 0.0:
        return 0.0
    x, y = _in_validity_box(curves, chws_temp_c, cond_entering_temp_c)
    q_avail_unit = unit_capacity_w * max(_biquadratic(curves.cap_ft, x, y), 1e-6)
    running = min(max(math.ceil(load_w / q_avail_unit), 1), units)
    power, _ = chiller_power_doe2(
        load_w / running, unit_capacity_w, chws_temp_c, cond_entering_temp_c, curves
    )
    return power * running
