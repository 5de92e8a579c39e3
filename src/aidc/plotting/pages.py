"""What every HTML page aidc writes shares: one colour per name, axes that read, one file per page.

* **Colours.** A controller, hall or job keeps one colour on every panel of a page
  (:func:`colour_map`); panels of one figure share a ``legendgroup`` per name, so one legend entry
  shows or hides it everywhere.
* **Axes.** Ticks print nice values without SI suffixes or float noise; a nearly flat series is
  drawn on a minimum span, not stretched until its noise fills the panel; counts and shares start
  at zero, so an all-zero series lies on the axis (:func:`y_axis`).
* **One self-contained file.** plotly.js is 4.8 MB and would be most of any page; it is inlined
  once, gzip-compressed and base64-encoded (2.0 MB), and unpacked by the browser with
  ``DecompressionStream`` (in Chromium, Firefox and Safari since 2023). Figures are drawn once it
  is loaded; ``body[data-figures="drawn"]`` marks the end.

It lives in ``aidc.control`` (layer 6) so that the evaluation page here and the run report
(``aidc.report``, layer 7) share it (docs/architecture.md: imports go down the layers only).
"""

from __future__ import annotations

import base64
import functools
import gzip
import html
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
from plotly.colors import qualitative
from plotly.offline import get_plotlyjs

NAME_COLOURS = qualitative.Plotly
TICKFORMAT = ",.8~g"  # d3-format: thousands separators, trailing zeros and float noise trimmed
# The legend right of the plot in a margin of one width on every figure, so the time axes of a
# page line up; a click on an entry hides that trace, on a group's title (a hall, a job) the group.
LEGEND = {"groupclick": "toggleitem", "tracegroupgap": 16}
MARGIN = {"l": 80, "r": 280, "t": 70, "b": 50}


def colour_map(names: Iterable[str]) -> dict[str, str]:
    """One colour per distinct name, in order of first appearance (the palette repeats after 10)."""
    unique = list(dict.fromkeys(names))
    return {name: NAME_COLOURS[i % len(NAME_COLOURS)] for i, name in enumerate(unique)}


@dataclass(frozen=True)
class Quantity:
    """How an axis of one kind of quantity reads."""

    hoverformat: str  # d3-format of a hovered value
    min_span: float  # the smallest range drawn, in the axis' unit
    from_zero: bool = False  # counts, shares and stacked totals: the axis starts at 0
    integer: bool = False  # counts: no tick between whole numbers


QUANTITIES = {
    "power_kw": Quantity(",.1f", 1.0, from_zero=True),
    "pue": Quantity(".3f", 0.05),
    "temp_c": Quantity(".1f", 5.0),
    "clock_mhz": Quantity(",.0f", 100.0),
    "percent": Quantity(".1f", 100.0, from_zero=True),
    "rate": Quantity(",.1f", 1.0, from_zero=True),
    "count": Quantity(",.0f", 1.0, from_zero=True, integer=True),
    "carbon_g_per_kwh": Quantity(",.0f", 10.0, from_zero=True),
    "price_usd_per_mwh": Quantity(",.1f", 1.0),  # prices can be negative
}


def y_axis(kind: str, title: str, *series: np.ndarray) -> dict:
    """Layout of a y axis for ``series`` (the values drawn on it) of quantity ``kind``."""
    q = QUANTITIES[kind]
    values = np.concatenate([np.ravel(np.asarray(s, dtype=float)) for s in series] or [np.empty(0)])
    finite = values[np.isfinite(values)]
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 0.0)
    if q.from_zero:
        lo = min(lo, 0.0)
        hi = max(hi, lo + q.min_span)
    elif hi - lo < q.min_span:
        mid = (lo + hi) / 2.0
        lo, hi = mid - q.min_span / 2.0, mid + q.min_span / 2.0
    pad = 0.05 * (hi - lo)
    floor = 0.02 * (hi - lo) if q.from_zero and lo == 0.0 else pad  # a line at zero stays in view
    axis = {
        "title": {"text": title},
        "tickformat": TICKFORMAT,
        "hoverformat": q.hoverformat,
        "range": [lo - floor, hi + pad],
    }
    if q.integer and hi < 10:
        axis["dtick"] = 1
    return axis


_TIME_UNITS = (  # longest span [s], unit, seconds per unit, hover format (~1 min or finer)
    (2 * 3600.0, "min", 60.0, ",.1f"),
    (3 * 86400.0, "h", 3600.0, ",.2f"),
    (np.inf, "d", 86400.0, ",.3f"),
)


def time_axis(t_s: np.ndarray) -> tuple[float, dict]:
    """Seconds per unit of the run's time axis (minutes, hours or days, whichever suits the span
    of ``t_s``) and the axis' layout, spanning ``t_s``."""
    t_s = np.asarray(t_s, dtype=float)
    span_s = float(t_s.max() - t_s.min()) if t_s.size else 0.0
    _, unit, scale, hover = next(u for u in _TIME_UNITS if span_s <= u[0])
    axis = {"title": {"text": f"time [{unit}]"}, "tickformat": TICKFORMAT, "hoverformat": hover}
    if span_s > 0.0:  # every figure of a page spans the run, whatever its series cover
        axis["range"] = [float(t_s.min()) / scale, float(t_s.max()) / scale]
    return scale, axis


@functools.cache
def _plotly_js_packed() -> str:
    return base64.b64encode(gzip.compress(get_plotlyjs().encode(), compresslevel=9, mtime=0)).decode()


_LOADER = """
(async () => {
  const status = document.getElementById("aidc-status");
  try {
    const packed = atob(document.getElementById("aidc-plotly-gz").textContent);
    const bytes = Uint8Array.from(packed, (c) => c.charCodeAt(0));
    const unpacked = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    const script = document.createElement("script");
    script.text = await new Response(unpacked).text();
    document.head.appendChild(script);
    const template = JSON.parse(document.getElementById("aidc-template").textContent);
    const config = {responsive: true, displaylogo: false};
    await Promise.all([...document.querySelectorAll("script.aidc-figure")].map((s) => {
      const fig = JSON.parse(s.textContent);
      fig.layout.template = template;
      return Plotly.newPlot(document.getElementById(s.dataset.div), fig.data, fig.layout, config);
    }));
    status.remove();
    document.body.dataset.figures = "drawn";
  } catch (err) {
    status.textContent = `The figures could not be drawn (${err}): this page needs a 2023 browser or later.`;
    throw err;
  }
})();
"""


def _json_script(obj: object, **attrs: str) -> str:
    text = json.dumps(obj, separators=(",", ":")).replace("<", "\\u003c")  # never closes the tag
    attributes = "".join(f' {k.rstrip("_").replace("_", "-")}="{html.escape(v)}"' for k, v in attrs.items())
    return f'<script type="application/json"{attributes}>{text}</script>'


def write_page(path: str | Path, title: str, body_html: str, figures: list[go.Figure]) -> Path:
    """Write ``path``: a self-contained HTML page with ``body_html`` and then ``figures``."""
    parts = []
    for i, fig in enumerate(figures):
        spec = json.loads(pio.to_json(fig, validate=False))
        spec["layout"].pop("template", None)  # one template for the page, not one per figure
        div = f"aidc-fig-{i}"
        parts.append(f'<div id="{div}"></div>' + _json_script(spec, class_="aidc-figure", data_div=div))
    template = pio.templates[pio.templates.default].to_plotly_json()
    doc = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<script>window.PlotlyConfig = {MathJaxConfig: 'local'};</script></head>"
        "<body style='font-family:sans-serif;max-width:1200px;margin:auto'>"
        f"{body_html}<p id='aidc-status'>Drawing the figures…</p>"
        "<noscript>The figures need JavaScript.</noscript>"
        f"{''.join(parts)}{_json_script(template, id='aidc-template')}"
        f'<script type="application/octet-stream" id="aidc-plotly-gz">{_plotly_js_packed()}</script>'
        f"<script>{_LOADER}</script></body></html>"
    )
    target = Path(path)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(doc, encoding="utf-8")
    tmp.replace(target)
    return target
