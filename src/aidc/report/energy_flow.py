"""The report's energy flow: where a run's facility energy went after warm-up, as a Sankey diagram
from the meter through the IT, the cooling plant and the power chain into each part
(:func:`aidc.telemetry.profile.profile_run`)."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.colors import qualitative

from aidc.plotting.pages import MARGIN
from aidc.telemetry.profile import Window, profile_run
from aidc.telemetry.store import Run
from aidc.units import J_PER_KWH

# (part, label, the stage it flows through)
_FLOWS = (
    ("gpu_dynamic", "GPU dynamic", "IT"),
    ("gpu_leakage", "GPU leakage", "IT"),
    ("gpu_static", "GPU static", "IT"),
    ("node_other", "rest of the servers", "IT"),
    ("node_fans", "server fans", "IT"),
    ("chillers", "chillers", "cooling"),
    ("heat_rejection", "heat rejection", "cooling"),
    ("pumps", "pumps", "cooling"),
    ("crah_fans", "CRAH fans", "cooling"),
    ("distribution_loss", "power-chain losses", None),
    ("other_loads", "other loads", None),
)


def energy_flow_figure(run: Run) -> go.Figure | None:
    """The Sankey of ``run``'s energy by part, or None for a run stored before the parts were."""
    try:
        window = profile_run(str(run.path))
    except ValueError:
        return None
    return _sankey(window) if window.facility_j > 0.0 else None


def _sankey(w: Window) -> go.Figure:
    parts = {k: j / J_PER_KWH for k, j in w.by_part().items()}
    labels = ["facility", "IT", "cooling"]
    source, target, value = [], [], []
    for part, label, stage in _FLOWS:
        kwh = parts.get(part, 0.0)
        if kwh <= 0.0:
            continue
        labels.append(label)
        source.append(labels.index(stage) if stage else 0)
        target.append(len(labels) - 1)
        value.append(kwh)
    for stage in ("IT", "cooling"):  # the meter feeds each stage what its parts took
        total = sum(v for s, v in zip(source, value, strict=True) if s == labels.index(stage))
        source.append(0)
        target.append(labels.index(stage))
        value.append(total)
    palette = qualitative.Safe
    colours = [palette[i % len(palette)] for i in range(len(labels))]
    node_kwh = {0: sum(parts.values())}
    for t, v in zip(target, value, strict=True):
        node_kwh[t] = node_kwh.get(t, 0.0) + v
    text = [f"{lab}: {node_kwh.get(i, 0.0):,.0f} kWh" for i, lab in enumerate(labels)]
    fig = go.Figure(
        go.Sankey(
            valueformat=",.0f",
            valuesuffix=" kWh",
            node={"label": text, "color": colours, "pad": 14, "thickness": 16},
            link={"source": source, "target": target, "value": value},
        )
    )
    fig.update_layout(
        title=f"Where the energy went after warm-up: {sum(parts.values()):,.0f} kWh "
        f"over {w.seconds / 3600:,.1f} h",
        height=460,
        margin={**MARGIN, "r": 40},
    )
    return fig
