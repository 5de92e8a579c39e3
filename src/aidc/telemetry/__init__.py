"""Run store (DuckDB + Parquet) and run metrics."""

from aidc.telemetry.store import Run, RunExistsError, RunStore

__all__ = ["Run", "RunExistsError", "RunStore"]
