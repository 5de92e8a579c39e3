"""A hypothesis strategy for valid scenarios across the schema, small enough to run in tens of ms.

The numeric fields of the equipment sections (nodes, thermal paths, cooling plants, heat rejection,
power chain, shared prefixes, scheduler knobs) are drawn from their own declared ranges, read off
the schema, so a new field or a changed range is fuzzed without editing this file. The structure
(halls of at most 64 GPUs, jobs that share them, replicas that tile a serving job, a trace whose
prompts fit the model) is drawn so that most cases build and run.
"""

from __future__ import annotations

import typing
from typing import Any

import pvlib
from annotated_types import Ge, Gt, Le, Lt
from fuzzing import STEPS
from hypothesis import strategies as st
from pydantic import BaseModel

from aidc.facility.chillers import CHILLER_CURVES
from aidc.facility.climates import BUNDLED_CLIMATES
from aidc.hardware.catalog import GPU_CATALOG
from aidc.hardware.interconnect import LINKS, MEMORY_TIERS
from aidc.model.presets import PRESETS
from aidc.scenario import (
    AirCoolingConfig,
    BurnJob,
    HeatRejectionConfig,
    ImmersionCoolingConfig,
    LiquidCoolingConfig,
    NodeConfig,
    PowerChainConfig,
    ServingJob,
    SharedPrefixConfig,
    ThermalConfig,
    TrainingJob,
)
from aidc.scenario.faults import FaultComponent

MAX_GPUS = 64
AZURE_LONGEST_PROMPT = 14_050  # tokens, azure-conv; azure-code's is 7,437
SERVED_MODELS = (
    "llama-3.1-8b",
    "deepseek-v2-lite",
    "tiny-gqa",
    "tiny-mla-moe",
    "tiny-mla-lite",
    "llama-3.1-70b",
)
CATALOG_FIELDS = {"chiller": sorted(CHILLER_CURVES)}

# Where the hall's physics holds, narrower than the schema: steps up to 30 s (what
# tests/sim/test_time_step.py checks), thermal paths within a factor of two of the calibrated
# defaults and capacitance not below them (COOLABLE), rack inlets at most 10 K above supply, node
# airflow at least the default's per GPU, fans at full speed by 80 °C. Outside it the physics has
# open bugs, each pinned by a strict xfail in test_fuzz_regressions.py: leakage linearized over a
# step much longer than the junction's time constant turns negative, a junction that runs away
# overflows.
MAX_DT_S = 30.0
COOLABLE = {
    "cold_plate_resistance_k_w": st.floats(0.016, 0.064),
    "heatsink_base_resistance_k_w": st.floats(0.012, 0.048),
    "heatsink_convective_resistance_k_w": st.floats(0.010, 0.040),
    "immersion_resistance_k_w": st.floats(0.022, 0.090),
    "capacitance_j_k": st.floats(600.0, 1e5),
    "cold_plate_flow_l_min": st.floats(0.75, 50.0),
}


def _bounded(field) -> st.SearchStrategy | None:
    """Values of a numeric, boolean or literal field from its declared range; None if it has none."""
    ann = field.annotation
    args = typing.get_args(ann)
    if typing.get_origin(ann) is typing.Union or type(ann).__name__ == "UnionType":
        ann = next(a for a in args if a is not type(None))
    if ann is bool:
        return st.booleans()
    if typing.get_origin(ann) is typing.Literal:
        return st.sampled_from(typing.get_args(ann))
    lo = hi = None
    lo_open = hi_open = False
    for m in field.metadata:
        if isinstance(m, Ge | Gt):
            lo, lo_open = float(m.ge if isinstance(m, Ge) else m.gt), isinstance(m, Gt)
        if isinstance(m, Le | Lt):
            hi, hi_open = float(m.le if isinstance(m, Le) else m.lt), isinstance(m, Lt)
    if ann is float and lo is not None and hi is not None:
        return st.floats(lo, hi, exclude_min=lo_open, exclude_max=hi_open)
    if ann is int and lo is not None and hi is not None:
        return st.integers(int(lo) + lo_open, int(hi) - hi_open)
    return None


@st.composite
def from_schema(draw, model: type[BaseModel], **fixed: Any) -> dict:
    """Each field of ``model`` left out (its default) or drawn from its range; ``fixed`` as given (a
    strategy there is drawn from)."""
    out: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if name in fixed:
            value = fixed[name]
            out[name] = draw(value) if isinstance(value, st.SearchStrategy) else value
        elif name in CATALOG_FIELDS:
            if draw(st.booleans()):
                out[name] = draw(st.sampled_from(CATALOG_FIELDS[name]))
        elif (strategy := _bounded(field)) is not None and draw(st.booleans()):
            out[name] = draw(strategy)
    return out


@st.composite
def cooling(draw) -> dict:
    kind = draw(st.sampled_from(("air", "liquid", "immersion")))
    model = {"air": AirCoolingConfig, "liquid": LiquidCoolingConfig, "immersion": ImmersionCoolingConfig}[
        kind
    ]
    fixed: dict[str, Any] = {"type": kind}
    fixed["heat_rejection"] = draw(
        from_schema(HeatRejectionConfig, type=draw(st.sampled_from(("cooling_tower", "dry_cooler"))))
    )
    if kind == "liquid":
        fixed["residual_air"] = draw(
            from_schema(AirCoolingConfig, type="air", heat_rejection=fixed["heat_rejection"])
        )
    return draw(from_schema(model, **fixed))


@st.composite
def node(draw, gpus_per_node: int) -> dict:
    rows = draw(st.sampled_from([r for r in range(1, 9) if gpus_per_node % r == 0]))
    # full fan speed before the GPUs' slowdown temperatures (84 °C and up), as COOLABLE
    low = draw(st.floats(0.0, 79.0))
    high = low + draw(st.floats(1.0, 80.0 - low))
    airflow = st.floats(0.06 * gpus_per_node, 10.0)  # the default's 0.47 m³/s for 8 GPUs, or more
    return draw(
        from_schema(
            NodeConfig,
            airflow_full_speed_m3_s=airflow,
            gpus_per_node=gpus_per_node,
            gpu_rows_in_airflow=rows,
            fan_temp_low_c=low,
            fan_temp_high_c=high,
        )
    )


@st.composite
def weather(draw) -> dict:
    kind = draw(st.sampled_from(("climate", "file", "constant")))
    month = draw(st.integers(1, 12))
    day = draw(st.integers(1, (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[month - 1]))
    start = f"{month:02d}-{day:02d} {draw(st.integers(0, 23)):02d}:{draw(st.integers(0, 59)):02d}"
    if kind == "climate":
        return {"climate": draw(st.sampled_from(sorted(BUNDLED_CLIMATES))), "start": start}
    if kind == "file":
        filename, fmt = BUNDLED_CLIMATES[draw(st.sampled_from(sorted(BUNDLED_CLIMATES)))]
        return {"file": str(pvlib.__path__[0] + "/data/" + filename), "format": fmt, "start": start}
    return {"dry_bulb_c": draw(st.floats(-60.0, 60.0)), "relative_humidity_pct": draw(st.floats(0.0, 100.0))}


def synthetic_trace(draw, longest_prompt: int) -> str:
    """A CSV of a few requests with prompts up to ``longest_prompt`` tokens."""
    n = draw(st.integers(1, 60))
    gaps = draw(st.lists(st.floats(0.0, 30.0), min_size=n, max_size=n))
    prompts = draw(st.lists(st.integers(1, longest_prompt), min_size=n, max_size=n))
    outputs = draw(st.lists(st.integers(1, 1000), min_size=n, max_size=n))
    rows, t = ["arrival_s,prompt_tokens,output_tokens"], 0.0
    for gap, p, o in zip(gaps, prompts, outputs, strict=True):
        rows.append(f"{t!r},{p},{o}")
        t += gap
    return "\n".join(rows) + "\n"


SCHEDULER_FIELDS = (
    "expert_parallel",
    "kv_bits",
    "max_violation",
    "max_num_seqs",
    "max_tokens",
    "overcommit_ratio",
)
SCHEDULER_FIELDS += ("swap_gb", "prefix_caching", "mtp_acceptance", "slo_ttft_s", "slo_tpot_s")


@st.composite
def serving_job(draw, gpus: int, common: dict, dt_s: float, files: dict[str, str]) -> dict:
    """A serving job on ``gpus`` GPUs: replicas that tile them, a trace whose prompts fit the model."""
    tp = draw(st.sampled_from([t for t in (1, 2, 4, 8) if gpus % t == 0]))
    model = draw(st.sampled_from(SERVED_MODELS))
    job: dict[str, Any] = {**common, "type": "serving", "model": model, "gpus_per_replica": tp}
    knobs = draw(from_schema(ServingJob))
    job |= {k: v for k, v in knobs.items() if k in SCHEDULER_FIELDS}
    if "slo_ttft_s" in job or "slo_tpot_s" in job:
        longest = max(job.get("slo_ttft_s", 0.0), job.get("slo_tpot_s", 0.0))
        job["slo_e2e_s"] = min(longest * draw(st.floats(1.0, 100.0)), 86_400.0)
    job["max_batched_tokens"] = draw(st.integers(256, 16_384))  # fewer: an engine step per few tokens, slow
    job["link"] = draw(st.sampled_from(sorted(LINKS)))
    job["swap_tier"] = draw(st.sampled_from([*sorted(MEMORY_TIERS), None]))
    if job["swap_tier"] is None:
        del job["swap_tier"]  # TOML has no null; the schema's default names a tier
    context = PRESETS[model].max_seq_len
    if context > AZURE_LONGEST_PROMPT and draw(st.booleans()):
        job["trace"] = draw(st.sampled_from(("azure-conv", "azure-code")))
        job["trace_start_s"] = draw(st.floats(0.0, 3400.0))
        # a few hundred requests over the steps run: the whole trace would take seconds per case
        job["rate_per_s"] = draw(st.floats(0.01, 300.0 / (STEPS * dt_s)))
    else:
        files["trace.csv"] = synthetic_trace(draw, min(context, 8192))
        job["trace"] = "trace.csv"
        if draw(st.booleans()):
            job["rate_per_s"] = draw(st.floats(0.01, 50.0))
    if draw(st.booleans()):
        job["shared_prefix"] = draw(from_schema(SharedPrefixConfig))
    replicas = gpus // tp
    mode = draw(st.sampled_from(("plain", "router", "disaggregated", "tiered")))
    if mode == "router":
        job["router"] = draw(st.sampled_from(("round-robin", "least-loaded")))
    elif mode == "disaggregated" and replicas >= 2:
        job["prefill_replicas"] = draw(st.integers(1, replicas - 1))
        job["kv_transfer_link"] = draw(st.sampled_from(sorted(LINKS)))
    elif mode == "tiered" and replicas >= 2:
        small_tp = draw(st.sampled_from([t for t in (1, 2, 4) if t <= tp]))
        job |= {
            "router": "tiered",
            "small_model": draw(st.sampled_from(("tiny-gqa", "llama-3.1-8b"))),
            "small_gpus_per_replica": small_tp,
            "small_replicas": tp // small_tp,  # one large replica's GPUs
            "tier_threshold_tokens": draw(st.integers(1, 4096)),
        }
    return job


@st.composite
def jobs(draw, gpus: int, precisions: list[str], dt_s: float, files: dict[str, str]) -> list[dict]:
    """Up to three jobs sharing a hall's ``gpus`` GPUs, starting within the steps run."""
    out = []
    left = gpus
    for i in range(draw(st.integers(0, 3))):
        if left == 0:
            break
        count = draw(st.integers(1, left))
        start = draw(st.one_of(st.just(0.0), st.floats(0.0, STEPS * dt_s)))
        common: dict[str, Any] = {"name": f"job-{i}", "gpus": count, "start_s": start}
        if draw(st.booleans()):
            common["end_s"] = start + draw(st.floats(1.0, 4 * dt_s))
        kind = draw(st.sampled_from(("burn", "training", "idle", "serving")))
        if kind == "serving" and "trace.csv" not in files:
            job = draw(serving_job(count, common, dt_s, files))
            job["precision"] = draw(st.sampled_from([p for p in ("bf16", "fp8") if p in precisions]))
        elif kind in ("burn", "training"):
            model = BurnJob if kind == "burn" else TrainingJob
            job = draw(from_schema(model, type=kind, precision=draw(st.sampled_from(precisions)), **common))
            if "end_s" not in common:
                job.pop("end_s", None)  # drawn alone it may fall before start_s
            if "work_pflop" in job:
                job["flexible"] = True  # a work target is for flexible jobs
        else:
            job = {**common, "type": "idle"}
        out.append(job)
        left -= count
    return out


@st.composite
def hall(draw, index: int, dt_s: float, files: dict[str, str]) -> dict:
    gpu = draw(st.sampled_from(sorted(GPU_CATALOG)))
    spec = GPU_CATALOG[gpu]
    gpus_per_node = draw(st.sampled_from((1, 2, 4, 8)))
    nodes = draw(st.integers(1, MAX_GPUS // gpus_per_node))
    racks_per_row = draw(st.sampled_from([d for d in range(1, nodes + 1) if nodes % d == 0]))
    out: dict[str, Any] = {
        "name": f"hall-{index}",
        "gpu": gpu,
        "rows": 1,
        "racks_per_row": racks_per_row,
        "nodes_per_rack": nodes // racks_per_row,
        "inlet_offset_mean_c": draw(st.floats(-5.0, 10.0)),
        "inlet_offset_std_c": draw(st.floats(0.0, 10.0)),
        "node": draw(node(gpus_per_node)),
        "thermal": draw(from_schema(ThermalConfig, **COOLABLE)),
        "cooling": draw(cooling()),
    }
    if draw(st.booleans()):
        out["power_cap_w"] = draw(st.floats(spec.power_cap_min_w, spec.power_cap_max_w))
    out["jobs"] = draw(jobs(nodes * gpus_per_node, sorted(spec.peak_dense_tflops), dt_s, files))
    return out


@st.composite
def faults(draw, halls: list[dict], duration_s: float) -> list[dict]:
    """Zero to three faults of any kind inside the run (a conditional one now and then)."""
    out = []
    for i in range(draw(st.integers(0, 3))):
        component = draw(st.sampled_from(typing.get_args(FaultComponent)))
        f: dict[str, Any] = {
            "name": f"fault-{i}",
            "component": component,
            "start_s": draw(st.floats(0.0, duration_s)),
        }
        if draw(st.booleans()):
            f["duration_s"] = draw(st.floats(0.5, 2.0 * duration_s))
        if component != "utility":
            hall = draw(st.sampled_from([None, *halls]))
            if hall is not None:
                f["hall"] = hall["name"]
            f["lost_frac"] = draw(st.floats(0.01, 1.0))
        if component == "gpu":
            size = min(
                h["rows"] * h["racks_per_row"] * h["nodes_per_rack"] * h["node"]["gpus_per_node"]
                for h in (halls if hall is None else [hall])
            )
            f["gpus"] = draw(st.integers(1, size))
            f["first_gpu"] = draw(st.integers(0, size - f["gpus"]))
        if draw(st.integers(0, 4)) == 0:
            f["trigger_dry_bulb_above_c"] = draw(st.floats(-20.0, 45.0))
        out.append(f)
    return out


@st.composite
def valid_scenario(draw) -> tuple[dict, dict[str, str]]:
    """A scenario and the data files it names (file name → contents), to be written beside it."""
    files: dict[str, str] = {}
    dt_s = draw(st.floats(1.0, MAX_DT_S))
    duration_s = dt_s * draw(st.integers(1, 6)) + draw(st.floats(0.0, dt_s))
    data: dict[str, Any] = {
        "name": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,30}", fullmatch=True)),
        "description": draw(st.text(max_size=20)),
        "seed": draw(st.integers(0, 2**63 - 1)),
        "duration_s": duration_s,
        "dt_s": dt_s,
        "warmup_s": draw(st.floats(0.0, duration_s, exclude_max=True)),
        "weather": draw(weather()),
        "halls": [draw(hall(i, dt_s, files)) for i in range(draw(st.integers(1, 2)))],
        "power_chain": draw(from_schema(PowerChainConfig)),
    }
    if draw(st.booleans()):
        data["telemetry"] = {"sample_s": dt_s * draw(st.floats(1.0, 10.0)), "per_gpu": draw(st.booleans())}
    data["faults"] = draw(faults(data["halls"], duration_s))
    return data, files
