"""Running a sweep: every variant into its own run folder, as Ray tasks or one after another,
resumable, with one DuckDB table of every run's headline figures and the varied fields.

The sweep's folder holds ``sweep.json`` (what it is: the sweep file's fields and its runs),
``runs/<id>/`` (ordinary aidc run folders), ``sweep.duckdb`` (table ``runs``) and ``sweep.html``
(:mod:`aidc.sweep.page`). A run whose folder is complete and holds the same scenario is skipped,
so a stopped sweep (Ctrl-C, SIGTERM, a lost worker, kill -9) resumes where it was; a run stopped
mid-way is simulated again from its start. A folder that is not an aidc sweep is never written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from aidc.api import run_scenario
from aidc.scenario import validate_scenario
from aidc.sweep.spec import Sweep, Variant
from aidc.telemetry.folder import OutputError
from aidc.telemetry.store import Run, RunError

try:
    import ray
except ImportError:  # optional: pip install 'aidc[ray]'
    ray = None

SWEEP_FILE, TABLE_FILE, RUNS_DIR = "sweep.json", "sweep.duckdb", "runs"
KIND = "aidc sweep"

HEADLINE: tuple[tuple[str, str], ...] = (
    ("pue", "pue"),
    ("facility_kwh", "energy_kwh.facility"),
    ("it_kwh", "energy_kwh.it"),
    ("gpu_kwh", "energy_kwh.gpu"),
    ("cooling_kwh", "energy_kwh.cooling"),
    ("facility_power_mean_kw", "facility_power_mean_kw"),
    ("facility_power_peak_15min_kw", "facility_power_peak_15min_kw"),
    ("pflop_delivered", "pflop_delivered"),
    ("tflop_per_facility_kwh", "tflop_per_facility_kwh"),
    ("water_m3", "water_m3"),
    ("gpus", "halls.0.gpus"),
    ("tflops_per_gpu", "halls.0.tflops_per_gpu"),
    ("tflops_per_kw", "halls.0.tflops_per_kw"),
    ("throttled_share", "halls.0.throttled_share"),
    ("gpu_temp_p99_c", "halls.0.gpu_temp_p99_c"),
    ("gpu_temp_max_c", "halls.0.gpu_temp_max_c"),
    ("gpus_shut_down_max", "halls.0.gpus_shut_down_max"),
    ("output_tokens_per_facility_kwh", "serving.0.output_tokens_per_facility_kwh"),
    ("ttft_p99_s", "serving.0.ttft_p99_s"),
    ("tpot_p99_s", "serving.0.tpot_p99_s"),
)
"""The table's figures: (column, path in a run's summary); hall figures are the first hall's,
serving figures the first serving job's."""


@dataclass(frozen=True)
class Outcome:
    """What became of one run: ``complete`` (simulated now), ``skipped`` (complete before) or
    ``failed: …``; its summary when it has one."""

    id: str
    values: dict[str, Any]
    status: str
    summary: dict[str, Any] | None


def summary_value(summary: dict[str, Any] | None, path: str) -> Any:
    """The value at ``halls.0.gpu_temp_p99_c`` in a run summary; None where there is none."""
    node: Any = summary
    for key in path.split("."):
        if isinstance(node, list) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        elif isinstance(node, dict) and key in node:
            node = node[key]
        else:
            return None
    return node


def column_name(field: str) -> str:
    """A varied field's column: ``halls.0.cooling.type`` → ``halls_0_cooling_type``."""
    return re.sub(r"[^A-Za-z0-9]+", "_", field).strip("_")


def prepare(sweep: Sweep, out: Path) -> list[Outcome]:
    """Claim ``out`` for ``sweep`` (``OutputError`` if it holds anything else, or another sweep)
    and return the runs already complete there, as skipped outcomes."""
    record = {
        "kind": KIND,
        "name": sweep.name,
        "source": str(sweep.source),
        "spec": sweep.spec.model_dump(mode="json"),
        "runs": [{"id": v.id, "values": v.values} for v in sweep.variants],
    }
    marker = out / SWEEP_FILE
    if out.exists():
        if not out.is_dir():
            raise OutputError(f"{out} exists and is not a folder")
        if marker.is_file():
            try:
                old = json.loads(marker.read_text(encoding="utf-8"))
            except (OSError, ValueError) as e:
                raise OutputError(f"{marker} is not readable ({e}); choose another --out") from None
            if (
                old.get("kind") != KIND
                or old.get("runs") != record["runs"]
                or old.get("spec") != record["spec"]
            ):
                raise OutputError(f"{out} holds another sweep ({old.get('name')!r}); choose another --out")
        elif any(out.iterdir()):
            raise OutputError(
                f"{out} is not empty and not an aidc sweep; aidc writes only into its own folders"
            )
    (out / RUNS_DIR).mkdir(parents=True, exist_ok=True)
    tmp = marker.with_name(SWEEP_FILE + ".tmp")
    tmp.write_text(json.dumps(record, indent=2), encoding="utf-8")
    tmp.replace(marker)
    return [o for v in sweep.variants if (o := _finished(v, out)) is not None]


def _finished(v: Variant, out: Path) -> Outcome | None:
    path = out / RUNS_DIR / v.id
    try:
        run = Run(path)
    except RunError:
        return None
    if run.complete and run.metadata.get("scenario") == v.scenario.model_dump(mode="json"):
        return Outcome(v.id, v.values, "skipped", run.summary)
    return None


def run_variant(scenario_json: dict[str, Any], folder: str) -> dict[str, Any] | None:
    """One run of a sweep (a Ray task, or called in process): its summary."""
    sc = validate_scenario(scenario_json)
    return run_scenario(sc, folder, overwrite=True, source="sweep").summary


def run_sweep(
    sweep: Sweep,
    out: Path,
    *,
    use_ray: bool = True,
    ray_address: str | None = None,
    workers: int | None = None,
    progress: Callable[[Outcome, int, int], None] | None = None,
) -> list[Outcome]:
    """Run every variant not complete in ``out`` yet (:func:`prepare` first), writing the table
    after each; ``progress(outcome, done, total)`` after each run. Returns the outcomes in the
    sweep's order."""
    outcomes = {o.id: o for o in prepare(sweep, out)}
    todo = [v for v in sweep.variants if v.id not in outcomes]
    total = len(sweep.variants)

    def finish(outcome: Outcome) -> None:
        outcomes[outcome.id] = outcome
        write_table(sweep, out, outcomes)
        if progress is not None:
            progress(outcome, len(outcomes), total)

    write_table(sweep, out, outcomes)
    if todo and use_ray:
        _on_ray(todo, out, ray_address, workers, finish)
    else:
        for v in todo:
            try:
                summary = run_variant(v.scenario.model_dump(mode="json"), str(out / RUNS_DIR / v.id))
                finish(Outcome(v.id, v.values, "complete", summary))
            except Exception as e:  # the run's folder is marked incomplete; the sweep goes on
                finish(Outcome(v.id, v.values, f"failed: {type(e).__name__}: {e}", None))
    return [outcomes[v.id] for v in sweep.variants]


def _on_ray(todo: list[Variant], out: Path, address: str | None, workers: int | None, finish) -> None:
    if ray is None:
        raise RuntimeError("running a sweep on Ray needs Ray: pip install 'aidc[ray]' (or --no-ray)")
    started = not ray.is_initialized()
    if started:
        ray.init(
            address=address,
            num_cpus=None if address else workers,
            include_dashboard=False,
            log_to_driver=False,
            configure_logging=False,
        )
    try:
        task = ray.remote(run_variant)
        pending = {
            task.remote(v.scenario.model_dump(mode="json"), str(out / RUNS_DIR / v.id)): v for v in todo
        }
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            v = pending.pop(done[0])
            try:
                finish(Outcome(v.id, v.values, "complete", ray.get(done[0])))
            except Exception as e:  # a task's own error, or its worker lost
                finish(Outcome(v.id, v.values, f"failed: {type(e).__name__}: {e}", None))
    finally:
        if started:
            ray.shutdown()


def table(sweep: Sweep, outcomes: dict[str, Outcome]) -> pa.Table:
    """One row per run, in the sweep's order: id, status, the varied fields, the headline figures
    (null for runs not finished)."""
    columns: dict[str, list[Any]] = {"run": [], "status": []}
    for field in sweep.fields:
        columns[column_name(field)] = []
    for name, _ in HEADLINE:
        columns[name] = []
    for v in sweep.variants:
        o = outcomes.get(v.id)
        columns["run"].append(v.id)
        columns["status"].append(o.status if o else "pending")
        for field in sweep.fields:
            columns[column_name(field)].append(v.values[field])
        for name, path in HEADLINE:
            value = summary_value(o.summary if o else None, path)
            columns[name].append(float(value) if isinstance(value, int | float) else None)
    return pa.table({k: _array(v) for k, v in columns.items()})


def _array(values: list[Any]) -> pa.Array:
    """A column; a varied field whose values mix types (1 and "auto") is kept as text."""
    try:
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([json.dumps(v) if not isinstance(v, str) else v for v in values])


def write_table(sweep: Sweep, out: Path, outcomes: dict[str, Outcome]) -> None:
    rows = table(sweep, outcomes)
    with duckdb.connect(str(out / TABLE_FILE)) as con:
        con.register("rows", rows)
        con.execute("CREATE OR REPLACE TABLE runs AS SELECT * FROM rows")
