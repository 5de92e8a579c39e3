"""Telemetry in: each source reads a host where it can and says why where it cannot; RAPL's
counters unwrap; a recording is a run folder."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from aidc.api import record_host
from aidc.cli import ExitCode, app
from aidc.telemetry.sources import NVMLSource, PSISource, PsutilSource, RAPLSource


def _rapl(root, name: str, domain: str, energy_uj: int, range_uj: int = 1_000_000) -> None:
    d = root / f"intel-rapl:{domain}"
    d.mkdir(parents=True, exist_ok=True)
    (d / "name").write_text(name + "\n")
    (d / "energy_uj").write_text(f"{energy_uj}\n")
    (d / "max_energy_range_uj").write_text(f"{range_uj}\n")


def test_rapl_counters_accumulate_energy_across_a_wrap(tmp_path):
    _rapl(tmp_path, "package-0", "0", 900_000)
    source = RAPLSource(tmp_path)
    assert source.probe() is None
    assert source.read() == {"package_0_0_energy_j": 0.0}  # the first reading sets the origin
    _rapl(tmp_path, "package-0", "0", 950_000)
    assert source.read()["package_0_0_energy_j"] == pytest.approx(0.05)
    _rapl(tmp_path, "package-0", "0", 20_000)  # wrapped at 1 J: 0.05 + 0.02 more
    assert source.read()["package_0_0_energy_j"] == pytest.approx(0.12)


def test_pressure_stall_information_parses_the_kernels_lines(tmp_path):
    lines = [
        "some avg10=4.95 avg60=4.43 avg300=4.64 total=531000987",
        "full avg10=0.00 avg60=0.00 avg300=0.00 total=0",
    ]
    (tmp_path / "cpu").write_text("\n".join(lines) + "\n")
    values = PSISource(tmp_path).read()
    assert values["cpu_some_avg10_pct"] == 4.95
    assert values["cpu_some_total_s"] == pytest.approx(531.000987)


def test_a_source_without_its_hardware_says_why(tmp_path):
    assert "no RAPL domains" in RAPLSource(tmp_path).probe()
    assert "no pressure stall information" in PSISource(tmp_path).probe()
    why = NVMLSource().probe()  # this test machine has no NVIDIA driver
    assert why is None or "NVIDIA" in why
    assert PsutilSource().probe() is None


def test_a_recording_is_a_run_folder_with_the_readings(tmp_path):
    (tmp_path / "psi").mkdir()
    (tmp_path / "psi" / "cpu").write_text("some avg10=1.00 avg60=1.00 avg300=1.00 total=1000000\n")
    run = record_host(
        tmp_path / "rec", 0.3, 0.1, sources=[PSISource(tmp_path / "psi"), RAPLSource(tmp_path / "none")]
    )
    assert run.complete and run.summary["samples"] >= 3
    assert run.metadata["sources"]["rapl"].startswith("no RAPL domains")
    rows = run.query("SELECT metric, count(*) AS n FROM host GROUP BY metric ORDER BY metric").to_pylist()
    assert {r["metric"] for r in rows} == {"cpu_some_avg10_pct", "cpu_some_total_s"}


def test_the_command_records_and_refuses_a_folder_it_did_not_write(tmp_path):
    runner = CliRunner()
    ok = runner.invoke(
        app, ["record", "--out", str(tmp_path / "r"), "--seconds", "0.2", "--interval-s", "0.1"]
    )
    assert ok.exit_code == 0, ok.output
    assert "psutil: reading" in ok.output
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep me")
    refused = runner.invoke(app, ["record", "--out", str(mine), "--seconds", "0.1", "--overwrite"])
    assert refused.exit_code == ExitCode.BAD_INPUT and (mine / "notes.txt").read_text() == "keep me"
