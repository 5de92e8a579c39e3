"""Brick export and SHACL validation of the demo hall (1,024 GPUs), against an 8-GPU node.

Run with ``python benchmarks/bench_brick.py``. Each figure is the median of three: building the
model from the scenario, writing it as Turtle, and validating it (Brick 1.5 + the QUDT subset,
brickschema's loader included). The 8-GPU Cooling Matters node is the in-process baseline, so the
ratios show what a thousand GPUs cost on this machine; the issue's targets are a 5 s export and a
60 s validation for the demo hall on 2 cores.
"""

from __future__ import annotations

import platform
import statistics
import time

from aidc.api import load_scenario
from aidc.ontology.brick import brick_model
from aidc.ontology.export import validate_brick

EXAMPLES = "src/aidc/examples"


def _median(fn, repeats: int = 3) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def measure(name: str) -> dict[str, float]:
    scenario = load_scenario(f"{EXAMPLES}/{name}")
    build_s, model = _median(lambda: brick_model(scenario))
    turtle_s, _ = _median(lambda: model.serialize(format="turtle"))
    validate_s, (conforms, _, _) = _median(
        lambda: validate_brick(model), repeats=1 if len(model) > 10_000 else 3
    )
    assert conforms, f"{name} does not validate"
    return {"triples": len(model), "build_s": build_s, "turtle_s": turtle_s, "validate_s": validate_s}


def main() -> None:
    print(f"machine: {platform.machine()}, python {platform.python_version()}")
    base = measure("cooling_matters_liquid.toml")
    demo = measure("demo_hall.toml")
    for label, r in (("8 GPUs (baseline)", base), ("demo hall, 1,024 GPUs", demo)):
        export = r["build_s"] + r["turtle_s"]
        print(
            f"{label}: {r['triples']:,} triples; export {export:.2f} s "
            f"(build {r['build_s']:.2f}, Turtle {r['turtle_s']:.2f}); validate {r['validate_s']:.1f} s"
        )
    ratio = (demo["build_s"] + demo["turtle_s"]) / (base["build_s"] + base["turtle_s"])
    print(
        f"demo hall / 8 GPUs: export {ratio:,.0f}×, validation {demo['validate_s'] / base['validate_s']:.1f}×"
    )


if __name__ == "__main__":
    main()
