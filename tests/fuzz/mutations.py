"""Hypothesis strategies that break the bundled examples: field values, keys, and data-file contents.

A mutation picks a node of an example's nested dict (any section, list, item or value) and sets it
to a hostile value (NaN, ±inf, zero, negative, huge, a wrong type, a catalog name from elsewhere, a
path), deletes it, or adds a key (a schema field name from anywhere, or nonsense) beside it.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import pvlib
from fuzzing import EXAMPLE_DATA
from hypothesis import strategies as st
from pydantic import BaseModel

import aidc.scenario as schema
from aidc.facility.chillers import CHILLER_CURVES
from aidc.facility.climates import BUNDLED_CLIMATES
from aidc.hardware.catalog import GPU_CATALOG, PRECISIONS
from aidc.hardware.interconnect import LINKS, MEMORY_TIERS
from aidc.model.presets import PRESETS

NodePath = tuple[str | int, ...]

HOSTILE = [
    float("nan"),
    float("inf"),
    float("-inf"),
    0,
    0.0,
    -0.0,
    -1,
    -1e-9,
    5e-324,
    1e300,
    -1e300,
    10**18,
    -(10**18),
    2**63 - 1,
    "",
    " ",
    "x",
    "no-such-name",
    "../../x",
    "/",
    ".",
    "..",
    "a" * 300,
    "nan",
    "1e3",
    "\u0000",
    True,
    False,
    [],
    [0],
    [{}],
    {},
    {"unknown": 1},
]
CATALOG_NAMES = sorted(
    {
        *GPU_CATALOG,
        *CHILLER_CURVES,
        *BUNDLED_CLIMATES,
        *LINKS,
        *MEMORY_TIERS,
        *PRESETS,
        *PRECISIONS,
        "air",
        "liquid",
        "immersion",
        "burn",
        "training",
        "idle",
        "serving",
        "tiered",
        "cooling_tower",
        "dry_cooler",
        "azure-conv",
        "azure-code",
        "tmy2",
        "tmy3",
        "dc_800v",
    }
)


def _schema_keys() -> list[str]:
    seen: set[type] = set()
    keys: set[str] = set()
    todo = [getattr(schema, n) for n in schema.__all__]
    while todo:
        model = todo.pop()
        if not isinstance(model, type) or not issubclass(model, BaseModel) or model in seen:
            continue
        seen.add(model)
        keys |= set(model.model_fields)
    return sorted(keys)


SCHEMA_KEYS = _schema_keys()
DERIVED = ("×10", "÷10", "+1", "negated", "as string", "as int", "as list")


def derive(value: Any, how: str) -> Any:
    """A value near ``value``: scaled, shifted, negated or of another type."""
    if how == "as list":
        return [value]
    if isinstance(value, bool) or not isinstance(value, int | float) or how == "as string":
        return str(value)
    if how == "as int":
        return int(value) if math.isfinite(value) else value
    return {"×10": 10 * value, "÷10": value / 10, "+1": value + 1, "negated": -value}[how]


def node_paths(data: Any, prefix: NodePath = ()) -> list[NodePath]:
    """Every node below the root: sections, lists, their items and values."""
    out: list[NodePath] = []
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, child in items:
        out.append((*prefix, key))
        out += node_paths(child, (*prefix, key))
    return out


def _parent(data: Any, path: NodePath) -> Any:
    for key in path[:-1]:
        data = data[key]
    return data


values = st.one_of(
    st.sampled_from(HOSTILE),
    st.sampled_from(CATALOG_NAMES),
    st.floats(),
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=12),
)


@st.composite
def mutated_example(draw) -> tuple[str, dict]:
    """A bundled example with one to three mutations."""
    name = draw(st.sampled_from(sorted(EXAMPLE_DATA)))
    data = copy.deepcopy(EXAMPLE_DATA[name])
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(node_paths(data)))
        parent, key = _parent(data, path), path[-1]
        action = draw(st.sampled_from(("set", "set", "derive", "delete", "add")))
        if action == "set":
            parent[key] = draw(values)
        elif action == "derive":
            parent[key] = derive(parent[key], draw(st.sampled_from(DERIVED)))
        elif action == "delete":
            del parent[key]
            if not node_paths(data):
                break
        elif isinstance(parent, dict):
            new_key = draw(st.one_of(st.sampled_from(SCHEMA_KEYS), st.text(min_size=1, max_size=8)))
            parent[new_key] = draw(values)
        else:
            parent.append(draw(values))
    return name, data


# -- data files ------------------------------------------------------------------------------------
PVLIB_DATA = Path(pvlib.__file__).parent / "data"
TMY3_LINES = (PVLIB_DATA / "723170TYA.CSV").read_text().splitlines()
TMY2_LINES = (PVLIB_DATA / "12839.tm2").read_text().splitlines()
JUNK = ("", "nan", "-9900", "abc", "1e400", "-1e400", "9999", "-273.15", ",,", '"', "\u00e9")


# How a weather file is broken, by weight: the ones that parse in full cost the most (pvlib's
# readers and the wet bulb over 8760 hours), so they come up less often.
WEATHER_EDITS = ("whole", "one field", "swap") + ("cut lines", "cut bytes", "junk", "empty") * 4


@st.composite
def weather_file(draw) -> tuple[str, bytes]:
    """A TMY3 or TMY2 file, whole, cut short, with one field broken, or not a weather file at all;
    its format as the scenario would declare it (sometimes the wrong one)."""
    fmt = draw(st.sampled_from(("tmy3", "tmy2")))
    lines = list(TMY3_LINES if fmt == "tmy3" else TMY2_LINES)
    how = draw(st.sampled_from(WEATHER_EDITS))
    if how == "cut lines":
        lines = lines[: draw(st.integers(0, len(lines) - 1))]
    elif how == "one field":
        row = draw(st.integers(0, len(lines) - 1))
        lines[row] = _break_field(draw, lines[row], fmt)
    text = "\n".join(lines) + "\n"
    if how == "cut bytes":
        text = text[: draw(st.integers(0, len(text) - 1))]
    elif how == "junk":
        return fmt, draw(st.binary(max_size=200))
    elif how == "empty":
        text = ""
    elif how == "swap":
        fmt = "tmy2" if fmt == "tmy3" else "tmy3"
    return fmt, text.encode("utf-8")


def _break_field(draw, line: str, fmt: str) -> str:
    if fmt == "tmy3":
        cells = line.split(",")
        i = draw(st.integers(0, len(cells) - 1))
        cells[i] = draw(st.sampled_from(JUNK))
        return ",".join(cells)
    i = draw(st.integers(0, max(len(line) - 1, 0)))
    junk = draw(st.text(alphabet="0123456789-?AE .x", min_size=1, max_size=6))
    return line[:i] + junk + line[i + len(junk) :]


_cells = st.one_of(
    st.integers(-5, 10_000),
    st.sampled_from([0, -1, 10**7, 10**12, 10**19, "", "nan", "x", "1.5", "2023-11-16 18:15:46"]),
    st.floats(allow_nan=True, allow_infinity=True),
)
TRACE_HEADERS = (
    "arrival_s,prompt_tokens,output_tokens",
    "TIMESTAMP,ContextTokens,GeneratedTokens",
    "arrival_s,prompt_tokens",
    "prompt_tokens,arrival_s,output_tokens,extra",
    "",
)


@st.composite
def trace_file(draw) -> bytes:
    """A request trace CSV: a header (right, Azure's, incomplete, or none) and rows of plausible or
    hostile cells, sometimes cut short or replaced by junk bytes."""
    how = draw(st.sampled_from(("rows", "rows", "rows", "sorted rows", "junk", "cut")))
    if how == "junk":
        return draw(st.binary(max_size=200))
    header = draw(st.sampled_from(TRACE_HEADERS))
    if how == "sorted rows":
        n = draw(st.integers(0, 30))
        times = sorted(draw(st.lists(st.floats(0, 1e4), min_size=n, max_size=n)))
        tokens = draw(
            st.lists(st.tuples(st.integers(1, 20_000), st.integers(1, 2000)), min_size=n, max_size=n)
        )
        rows = [f"{t!r},{p},{o}" for t, (p, o) in zip(times, tokens, strict=True)]
    else:
        rows = [
            ",".join(map(str, r))
            for r in draw(st.lists(st.lists(_cells, min_size=2, max_size=4), max_size=8))
        ]
    text = "\n".join([header, *rows]) + "\n"
    if how == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    return text.encode("utf-8")
