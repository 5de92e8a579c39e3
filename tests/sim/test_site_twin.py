"""PV and a battery at the site's meter, inside the twin: the run's energy balance, the step length."""

import pytest

from aidc.api import simulate
from aidc.scenario import ScenarioError, validate_scenario
from aidc.sim.build import build_simulation
from aidc.telemetry.metrics import RunMetrics
from aidc.telemetry.rows import facility_row


def _site_scenario(dt_s: float = 60.0, **site) -> dict:
    return {
        "name": "site",
        "duration_s": 2 * 86400.0,
        "dt_s": dt_s,
        "weather": {"climate": "greensboro-nc", "start": "06-01 00:00"},
        "halls": [
            {
                "name": "h",
                "gpu": "H100-SXM",
                "rows": 1,
                "racks_per_row": 2,
                "cooling": {"type": "liquid"},
                "jobs": [{"type": "burn", "name": "b"}],
            }
        ],
        "site": {
            "pv": {"dc_capacity_kw": 300.0},
            "battery": {"capacity_kwh": 400.0, "max_charge_kw": 100.0, "max_discharge_kw": 100.0},
            **site,
        },
    }


def test_the_runs_energy_closes_at_the_meter_and_in_the_battery():
    sim = build_simulation(validate_scenario(_site_scenario()))
    battery = sim.site.battery
    start_kwh = battery.stored_kwh
    metrics = RunMetrics(sim.config(), 0.0)
    for rec in sim.run():
        metrics.add(rec)
    s = metrics.summary()
    site, facility = s["site"], s["energy_kwh"]["facility"]
    sources = site["grid_import_kwh"] + site["pv_kwh"] + site["battery_discharge_kwh"]
    sinks = facility + site["pv_exported_kwh"] + site["pv_curtailed_kwh"] + site["battery_charge_kwh"]
    assert sources == pytest.approx(sinks, rel=1e-9)
    stored = site["battery_charge_kwh"] - site["battery_discharge_kwh"] - site["battery_losses_kwh"]
    assert battery.stored_kwh - start_kwh == pytest.approx(stored, rel=1e-9, abs=1e-9)
    assert 0.0 < site["pv_share_of_facility_frac"] < 1.0 and site["battery_discharge_kwh"] > 0.0


def test_site_energies_do_not_depend_on_the_time_step():
    fine, coarse = (simulate(validate_scenario(_site_scenario(dt))) for dt in (30.0, 300.0))
    assert coarse["site"]["pv_kwh"] == pytest.approx(fine["site"]["pv_kwh"], rel=1e-9)
    for key in ("grid_import_kwh", "battery_discharge_kwh", "pv_exported_kwh"):
        assert coarse["site"][key] == pytest.approx(fine["site"][key], rel=0.01, abs=1.0), key


def test_peak_shaving_caps_the_15_minute_demand():
    s = simulate(validate_scenario(_site_scenario(dispatch="peak_shaving", grid_limit_kw=15.0)))
    assert s["site"]["peak_grid_demand_15min_kw"] <= 15.0 + 1e-6


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weather": {"dry_bulb_c": 20.0, "relative_humidity_pct": 40.0}}, "site.pv needs sunlight"),
        ({"site": {"dispatch": "peak_shaving"}}, "needs grid_limit_kw"),
        ({"site": {"battery": {"capacity_kwh": 1, "max_charge_kw": 1, "max_discharge_kw": 1,
                               "soc_min_frac": 0.9, "soc_max_frac": 0.5}}}, "soc_min_frac"),
        ({"site": {"pv": {"dc_capacity_kw": float("nan")}}}, "finite"),
    ],
)  # fmt: skip
def test_bad_site_input_is_a_scenario_error(change, message):
    with pytest.raises(ScenarioError, match=message):
        validate_scenario({**_site_scenario(), **change})


def _training_hall(event: dict | None) -> dict:
    """32 H100s training, with or without a demand-response call (its limit ~25 % below the load)."""
    hall = {
        "name": "h",
        "gpu": "H100-SXM",
        "rows": 1,
        "racks_per_row": 2,
        "nodes_per_rack": 2,
        "cooling": {"type": "liquid"},
        "jobs": [{"type": "training", "name": "t", "compute_s_at_max_clock": 4.0, "comm_s": 1.2}],
    }
    return {
        "name": "dr",
        "duration_s": 4 * 3600.0,
        "dt_s": 30.0,
        "weather": {"climate": "greensboro-nc", "start": "07-15 08:00"},
        "halls": [hall],
        "site": {"demand_response": [event] if event else []},
    }


def test_a_demand_response_call_is_followed_by_the_gpu_caps_at_a_cost_in_work():
    free = simulate(validate_scenario(_training_hall({"start_s": 3600, "end_s": 3 * 3600, "cap_kw": 1e6})))
    load_kw = free["site"]["dr_grid_mean_kw"]
    cap_kw = 0.75 * load_kw
    sim = build_simulation(
        validate_scenario(_training_hall({"start_s": 3600, "end_s": 3 * 3600, "cap_kw": cap_kw}))
    )
    base_cap_w = sim.halls[0].power_cap_w
    metrics = RunMetrics(sim.config(), 0.0)
    for rec in sim.run():
        metrics.add(rec)
    s = metrics.summary()["site"]
    assert s["dr_event_h"] == pytest.approx(2.0)
    assert s["dr_grid_mean_kw"] == pytest.approx(cap_kw, rel=0.01)  # held, but for the first steps
    assert s["dr_excess_kwh"] < 0.02 * cap_kw * 2.0
    assert s["dr_pflop_delivered"] < 0.97 * free["site"]["dr_pflop_delivered"]  # the work it cost
    assert sim.halls[0].power_cap_w == base_cap_w  # given back after the event


def test_grid_carbon_and_cost_from_a_users_hourly_csv(tmp_path):
    """400 g/kWh and $50/MWh by night, 200 g/kWh and $120/MWh from 08:00 to 20:00: the run's carbon
    and cost are the grid's import weighted by the hour it was drawn in."""
    hours = range(8760)
    rows = [(h, 200.0 if 8 <= h % 24 < 20 else 400.0, 120.0 if 8 <= h % 24 < 20 else 50.0) for h in hours]
    csv = tmp_path / "grid.csv"
    csv.write_text(
        "hour_of_year,carbon_g_per_kwh,price_usd_per_mwh\n" + "".join(f"{h},{c},{p}\n" for h, c, p in rows)
    )
    data = _site_scenario(grid_signals_file=str(csv))
    del data["site"]["pv"], data["site"]["battery"]  # the grid supplies everything
    data["duration_s"] = 86400.0
    sim = build_simulation(validate_scenario(data))
    day = night = 0.0
    metrics = RunMetrics(sim.config(), 0.0)
    for rec in sim.run():
        metrics.add(rec)
        kwh = rec.site.grid_import_w * rec.dt_s / 3.6e6
        hour = (sim.start_hour + rec.t_s / 3600.0) % 24
        day, night = (day + kwh, night) if 8 <= hour < 20 else (day, night + kwh)
    s = metrics.summary()["site"]
    row = facility_row(rec)
    assert (row["grid_carbon_g_per_kwh"], row["grid_price_usd_per_mwh"]) == pytest.approx((400.0, 50.0))
    assert s["grid_carbon_t"] == pytest.approx((200.0 * day + 400.0 * night) / 1e6, rel=1e-9)
    assert s["grid_energy_cost_usd"] == pytest.approx((120.0 * day + 50.0 * night) / 1e3, rel=1e-9)


def test_the_bundled_ercot_signal_is_named_in_the_scenario():
    s = simulate(validate_scenario(_site_scenario(grid_signals="ercot-2022")))
    site = s["site"]
    assert 111.0 < site["grid_carbon_mean_g_per_kwh"] < 517.0  # time-based: the hours of the run
    # location-based: the year's mean intensity (347.6 g/kWh, facility/data/grid/README.md)
    assert site["grid_carbon_annual_mean_t"] == pytest.approx(site["grid_import_kwh"] * 347.6 / 1e6)
    with pytest.raises(ScenarioError, match="not both"):
        validate_scenario(_site_scenario(grid_signals="ercot-2022", grid_signals_file="x.csv"))
    with pytest.raises(ScenarioError, match="ercot-2022"):
        validate_scenario(_site_scenario(grid_signals="duk-2023"))
