"""What every part of the schema shares: the frozen base model, the error type and catalog-name
checks. The schema imports catalogs only (names of GPUs, chillers, climates, links, models), never
the components built from them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict


class ScenarioError(ValueError):
    """A scenario that cannot run; ``problems`` lists one message per bad field."""

    def __init__(self, problems: list[str], source: str = "scenario"):
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class FrozenModel(BaseModel):
    """Frozen, and unknown keys are an error."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def known_name(value: str | None, catalog: Mapping[str, Any], what: str) -> str | None:
    """``value`` if it names an entry of ``catalog`` (or is None); ``ValueError`` listing the entries."""
    if value is not None and value not in catalog:
        raise ValueError(f"unknown {what} {value!r}; known: {', '.join(catalog)}")
    return value
