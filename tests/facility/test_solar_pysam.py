"""aidc's PV model against NREL's PVWatts v8 (PySAM ``Pvwattsv8``) on the same TMY files.

Annual AC energy within 2 %, each month within 3 %, hourly AC correlated above 0.999. Measured with
PySAM 7.1.1 and pvlib 0.16.1, 1 MW standard modules at 20° (trackers: horizontal axis):

================  ==============  =======  ===========  ========
climate           mounting        annual   worst month  hourly r
================  ==============  =======  ===========  ========
greensboro-nc     open rack       +0.09 %  0.23 %       0.99997
greensboro-nc     roof mount      +0.11 %  0.26 %       0.99997
greensboro-nc     1-axis tracker  +0.18 %  0.50 %       0.99997
sand-point-ak     open rack       +0.46 %  1.16 %       0.99993
sand-point-ak     roof mount      +0.45 %  1.16 %       0.99993
sand-point-ak     1-axis tracker  +0.56 %  1.29 %       0.99995
miami-fl (TMY2)   open rack       +0.12 %  0.35 %       0.99998
miami-fl (TMY2)   roof mount      +0.14 %  0.37 %       0.99998
miami-fl (TMY2)   1-axis tracker  +0.24 %  0.47 %       0.99998
================  ==============  =======  ===========  ========

What is left is known and comes from sub-models v8 does differently, not from a fitted factor:
v8's cover normalises its anti-reflective transmittance by an uncoated air-glass interface and
caps it at 1 (about 0.7 % more light than ``pvlib.iam.physical``), its DC is a CEC single-diode
model of a reference module (0.2-0.4 % less than ``pvwatts_dc``), and its inverter is Sandia's
model with a self-consumption of 0.49 % of its rating (about 0.5 % less than PVWatts' curve).
"""

from pathlib import Path

import numpy as np
import pvlib
import pytest

from aidc.facility import solar
from aidc.facility.climates import BUNDLED_CLIMATES

Pvwattsv8 = pytest.importorskip("PySAM.Pvwattsv8")

SAM_ARRAY_TYPE = {"fixed_open_rack": 0, "fixed_roof_mount": 1, "one_axis_backtracking": 3}
SAM_MODULE_TYPE = {"standard": 0, "premium": 1, "thin_film": 2}
PVLIB_DATA = Path(pvlib.__file__).parent / "data"
HOURS_PER_MONTH = 24 * np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31])


def run_pysam(spec: solar.PVSpec, path: str) -> tuple[float, np.ndarray, np.ndarray]:
    """Annual AC energy [kWh], monthly AC energy [kWh] and hourly AC power [W] from PVWatts v8."""
    model = Pvwattsv8.default("PVWattsNone")  # no snow, soiling, shading or bifacial gain; file albedo
    model.SolarResource.solar_resource_file = path
    design = model.SystemDesign
    design.system_capacity = spec.dc_capacity_kw
    design.tilt, design.azimuth = spec.tilt_deg, spec.azimuth_deg
    design.array_type = SAM_ARRAY_TYPE[spec.array_type]
    design.module_type = SAM_MODULE_TYPE[spec.module_type]
    design.losses, design.dc_ac_ratio = spec.losses_pct, spec.dc_ac_ratio
    design.inv_eff, design.gcr = 100.0 * spec.inverter_efficiency_frac, spec.gcr_frac
    model.execute()
    out = model.Outputs  # read before the model is freed
    return out.ac_annual, np.asarray(out.ac_monthly), np.asarray(out.ac)


CASES = [
    (
        climate,
        solar.PVSpec(1000.0, tilt_deg=0.0 if mount == "one_axis_backtracking" else 20.0, array_type=mount),
    )
    for climate in BUNDLED_CLIMATES
    for mount in SAM_ARRAY_TYPE
] + [
    (
        "greensboro-nc",
        solar.PVSpec(500.0, tilt_deg=35.0, azimuth_deg=200.0, module_type="premium", dc_ac_ratio=1.5),
    ),
    ("miami-fl", solar.PVSpec(2000.0, tilt_deg=10.0, module_type="thin_film", array_type="fixed_roof_mount")),
]


@pytest.mark.parametrize(("climate", "spec"), CASES, ids=lambda c: getattr(c, "array_type", c))
def test_energy_matches_pvwatts_v8(climate, spec):
    resource = solar.load_solar_climate(climate)
    ours_w = solar.pvwatts_ac_power_w(spec, resource).ac_w
    sam_kwh, sam_months_kwh, sam_w = run_pysam(spec, str(PVLIB_DATA / BUNDLED_CLIMATES[climate][0]))
    annual_error = ours_w.sum() / 1000.0 / sam_kwh - 1.0
    months_kwh = np.add.reduceat(ours_w, np.concatenate(([0], np.cumsum(HOURS_PER_MONTH)[:-1]))) / 1000.0
    worst_month = np.max(np.abs(months_kwh / sam_months_kwh - 1.0))
    r = np.corrcoef(ours_w, sam_w)[0, 1]
    print(
        f"{climate} {spec.array_type}: annual {annual_error:+.2%}, worst month {worst_month:.2%}, r {r:.5f}"
    )
    assert abs(annual_error) < 0.02
    assert worst_month < 0.03
    assert r > 0.999
