import numpy as np
import plotly.graph_objects as go
import pytest

from aidc.plotting.pages import colour_map, time_axis, write_page, y_axis


def test_one_colour_per_name_in_order_of_first_appearance():
    colours = colour_map(["fixed", "rule-based", "fixed", "policy.pt"])
    assert list(colours) == ["fixed", "rule-based", "policy.pt"]
    assert len(set(colours.values())) == 3


def test_an_all_zero_count_lies_on_the_axis_with_whole_ticks():
    axis = y_axis("count", "kills", np.zeros(100))
    lo, hi = axis["range"]
    assert -0.05 < lo <= 0.0 < 1.0 <= hi < 1.1  # zero at the bottom, not mid-height
    assert axis["dtick"] == 1


def test_a_flat_temperature_is_drawn_on_the_minimum_span():
    axis = y_axis("temp_c", "hottest inlet [°C]", 26.11 + 1e-4 * np.arange(10))
    lo, hi = axis["range"]
    assert hi - lo >= 5.0 and lo < 26.11 < hi  # its noise does not fill the panel
    assert axis["hoverformat"] == ".1f" and "~" in axis["tickformat"]


def test_a_wide_range_is_drawn_as_it_is_and_nan_is_ignored():
    axis = y_axis("clock_mhz", "clock [MHz]", np.array([1200.0, np.nan, 1980.0]))
    lo, hi = axis["range"]
    assert lo == pytest.approx(1200.0 - 39.0) and hi == pytest.approx(1980.0 + 39.0)


@pytest.mark.parametrize(("span_s", "unit"), [(600.0, "min"), (86_400.0, "h"), (365 * 86_400.0, "d")])
def test_the_time_unit_follows_the_span(span_s, unit):
    scale, axis = time_axis(np.array([0.0, span_s]))
    assert axis["title"]["text"] == f"time [{unit}]"
    assert axis["range"] == [0.0, span_s / scale]


def test_a_page_inlines_plotly_once_and_each_figure_as_json(tmp_path):
    figs = [go.Figure(go.Scatter(x=np.arange(3.0), y=np.ones(3))) for _ in range(2)]
    path = write_page(tmp_path / "p.html", "a <page>", "<p>body</p>", figs)
    text = path.read_text()
    assert text.count('id="aidc-plotly-gz"') == 1 and text.count('class="aidc-figure"') == 2
    assert "<title>a &lt;page&gt;</title>" in text
    assert 1.5e6 < path.stat().st_size < 2.5e6  # plotly.js gzip-compressed: 4.8 MB → 2.0 MB
    assert not (tmp_path / "p.html.tmp").exists()
