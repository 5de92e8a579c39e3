"""Run folders for report tests: a year written straight into the store (simulating a year at
10 s steps would take hours), and the figure data a written page holds."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import numpy as np

from aidc.telemetry.store import Run, RunStore

YEAR_S = 365 * 86_400.0
SPIKE_C = 95.0  # one sample's hottest GPU in hall "training": the report must still show it


def _facility(t: np.ndarray, rng: np.random.Generator) -> dict:
    day, season = 2 * np.pi * t / 86_400.0, 2 * np.pi * t / YEAR_S
    dry = 15.0 - 10.0 * np.cos(season) + 5.0 * np.sin(day) + rng.normal(0.0, 1.0, t.size)
    gpu = 600e3 + 50e3 * rng.random(t.size)
    parts = {
        "gpu_w": gpu,
        "node_fans_w": 20e3 + 5e3 * rng.random(t.size),
        "crah_fans_w": 15e3 + 0.5e3 * dry,
        "pumps_w": np.full(t.size, 8e3),
        "chiller_w": np.clip(40e3 + 3e3 * dry, 0.0, None),
        "heat_rejection_w": np.full(t.size, 12e3),
        "distribution_loss_w": 0.03 * gpu,
        "other_w": np.full(t.size, 10e3),
    }
    it = gpu + parts["node_fans_w"] + 200e3
    facility = it + sum(v for k, v in parts.items() if k not in ("gpu_w", "node_fans_w"))
    return {
        "t_s": t,
        "dry_bulb_c": dry,
        "wet_bulb_c": dry - 4.0,
        "it_w": it,
        **parts,
        "facility_w": facility,
        "pue": facility / it,
    }


def _hall(t: np.ndarray, name: str, rng: np.random.Generator, liquid: bool) -> dict:
    temp = 65.0 + 5.0 * rng.random(t.size)
    busy = 1700.0 + 100.0 * rng.random(t.size)
    return {
        "t_s": t,
        "hall": [name] * t.size,
        "supply_air_c": np.full(t.size, 24.0),
        "liquid_supply_c": np.full(t.size, 32.0 if liquid else 0.0),
        "gpu_temp_mean_c": temp - 5.0,
        "gpu_temp_p99_c": temp,
        "gpu_temp_max_c": temp + 2.0,
        "clock_mean_mhz": 0.9 * busy + 0.1 * 345.0,  # a tenth of the GPUs idle at 345 MHz
        "clock_busy_mean_mhz": busy,
        "tflops_per_gpu": 400.0 + 50.0 * rng.random(t.size),
        "throttled_frac": (rng.random(t.size) < 0.01) * 0.5,
    }


def _serving(t: np.ndarray, rng: np.random.Generator) -> dict:
    tokens = np.cumsum(rng.poisson(30_000.0, t.size)).astype(float)
    return {
        "t_s": t,
        "hall": ["inference"] * t.size,
        "job": ["chat"] * t.size,
        "waiting": rng.poisson(2.0, t.size),
        "running": rng.poisson(40.0, t.size),
        "swapped": np.zeros(t.size, dtype=int),
        "kv_used_frac": 0.3 + 0.2 * rng.random(t.size),
        "output_tokens": tokens,
        "swap_outs": np.zeros(t.size, dtype=int),
        "kills": np.zeros(t.size, dtype=int),  # none: drawn on the axis, not mid-height
    }


def year_run(path: Path, sample_s: float = 300.0) -> Run:
    """Two halls (``training`` air-cooled, ``inference`` liquid-cooled with one serving job, ``chat``)
    over a year, one row per ``sample_s``."""
    rng = np.random.default_rng(0)
    t = np.arange(0.0, YEAR_S, sample_s)
    meta = {"scenario": {"name": "a-year", "description": "a synthetic year for report tests"}}
    with RunStore(path, meta, chunk_rows=10 * t.size) as store:
        store.extend("facility", _facility(t, rng))
        training = _hall(t, "training", rng, liquid=False)
        training["gpu_temp_max_c"][t.size // 3] = SPIKE_C
        store.extend("halls", training)
        store.extend("halls", _hall(t, "inference", rng, liquid=True))
        store.extend("serving", _serving(t, rng))
        store.finish({})
    return Run(path)


def page_figures(page: Path) -> list[dict]:
    """The figures of a page aidc wrote, with base64 arrays decoded."""
    found = re.findall(
        r'<script type="application/json" class="aidc-figure"[^>]*>(.*?)</script>', page.read_text()
    )
    figs = [json.loads(text) for text in found]
    for fig in figs:
        for trace in fig["data"]:
            for key in ("x", "y"):
                if isinstance(trace.get(key), dict):
                    raw = base64.b64decode(trace[key]["bdata"])
                    trace[key] = np.frombuffer(raw, dtype=np.dtype(trace[key]["dtype"]))
    return figs
