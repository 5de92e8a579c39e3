"""What every part of the schema shares: the frozen base model, the error type and catalog-name
checks. The schema imports catalogs only (names of GPUs, chillers, climates, links, models), never
the components built from them."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, field_validator

TEN_YEARS_S = 10 * 365 * 86400.0
"""The longest span a scenario's times may cover [s]: runs, job starts and ends, offsets."""


class ScenarioError(ValueError):
    """A scenario that cannot run; ``problems`` lists one message per bad field."""

    def __init__(self, problems: list[str], source: str = "scenario"):
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class FrozenModel(BaseModel):
    """Frozen; unknown keys are an error, and so is every NaN or infinite number."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="after")
    @classmethod
    def _no_negative_zero(cls, v: Any) -> Any:
        # -0.0 passes ge=0.0, but not every consumer reads it as 0 (numpy's normal(scale=-0.0) raises)
        return v + 0.0 if isinstance(v, float) else v


def known_name(value: str | None, catalog: Mapping[str, Any], what: str) -> str | None:
    """``value`` if it names an entry of ``catalog`` (or is None); ``ValueError`` listing the entries."""
    if value is not None and value not in catalog:
        raise ValueError(f"unknown {what} {value!r}; known: {', '.join(catalog)}")
    return value


SAFE_NAME_MAX = 100
SAFE_NAME_RULE = (
    "an ASCII letter or digit, then ASCII letters, digits, '.', '_', '+' or '-'; "
    f"at most {SAFE_NAME_MAX} characters"
)
_SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


def _safe_file_name(value: str) -> str:
    # A run's name is the default run directory (runs/<name>): no path separators, no "." or "..",
    # nothing a shell or a file system reads specially.
    if len(value) > SAFE_NAME_MAX or not _SAFE_NAME.fullmatch(value):
        raise ValueError(f"must be a safe file name, as it names the run's folder: {SAFE_NAME_RULE}")
    return value


SafeName = Annotated[str, AfterValidator(_safe_file_name)]
"""A name that becomes a file or folder name as it is (see :data:`SAFE_NAME_RULE`)."""
