"""The run store: one directory per run.

::

    RUN/
      metadata.json      scenario, versions, seed, component configs, status
      telemetry.duckdb   tables facility, halls, serving (one row per serving job and step), and gpus
                         when per-GPU telemetry is on (rows made by aidc.telemetry.rows)
      facility.parquet   the same tables as Parquet, one row group per flushed chunk
      halls.parquet
      serving.parquet
      gpus.parquet
      summary.json       run metrics (written last, only when the run completed)

Rows are buffered and flushed every ``chunk_rows`` samples, so memory stays bounded whatever the
run length. ``metadata.json`` says ``"status": "running"`` from the start and ``"complete"`` only
at the end; a run stopped by an exception or Ctrl-C is marked ``"incomplete"`` with its reason,
and one killed outright still says ``"running"``, which readers treat as incomplete.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

TABLES = ("facility", "halls", "gpus", "serving")


class RunExistsError(FileExistsError):
    pass


class _Table:
    def __init__(self, store: RunStore, name: str):
        self.store, self.name = store, name
        self.columns: dict[str, list[Any]] = {}
        self.rows = 0
        self.writer: pq.ParquetWriter | None = None

    def append(self, row: dict[str, Any]) -> None:
        if not self.columns:
            self.columns = {k: [] for k in row}
        for k, v in row.items():
            self.columns[k].append(v)
        self.rows += 1

    def extend(self, cols: dict[str, np.ndarray | list[Any]]) -> None:
        if not self.columns:
            self.columns = {k: [] for k in cols}
        for k, v in cols.items():
            self.columns[k].extend(v.tolist() if isinstance(v, np.ndarray) else v)
        self.rows += len(next(iter(cols.values())))

    def flush(self) -> None:
        if not self.rows:
            return
        table = pa.table(self.columns)
        db = self.store.db
        db.register("chunk", table)
        if self.writer is None:
            self.writer = pq.ParquetWriter(self.store.path / f"{self.name}.parquet", table.schema)
            db.execute(f"CREATE TABLE {self.name} AS SELECT * FROM chunk LIMIT 0")
        self.writer.write_table(table)
        db.execute(f"INSERT INTO {self.name} SELECT * FROM chunk")
        db.unregister("chunk")
        self.columns = {k: [] for k in self.columns}
        self.rows = 0

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()


class RunStore:
    """Writes one run directory. Use as a context manager around the simulation loop."""

    def __init__(
        self, path: str | Path, metadata: dict[str, Any], chunk_rows: int = 2048, overwrite: bool = False
    ):
        self.path = Path(path)
        if self.path.exists():
            if not overwrite:
                raise RunExistsError(f"run directory exists: {self.path} (pass overwrite to replace it)")
            shutil.rmtree(self.path)
        self.path.mkdir(parents=True)
        self.chunk_rows = chunk_rows
        self.metadata = {**metadata, "status": "running", "started_utc": _now()}
        self._write_metadata()
        self.db = duckdb.connect(str(self.path / "telemetry.duckdb"))
        self.tables = {name: _Table(self, name) for name in TABLES}

    def _write_metadata(self) -> None:
        tmp = self.path / "metadata.json.tmp"
        tmp.write_text(json.dumps(self.metadata, indent=2, default=_jsonable))
        tmp.replace(self.path / "metadata.json")

    def append(self, table: str, row: dict[str, Any]) -> None:
        t = self.tables[table]
        t.append(row)
        if t.rows >= self.chunk_rows:
            t.flush()

    def extend(self, table: str, cols: dict[str, np.ndarray | list[Any]]) -> None:
        t = self.tables[table]
        t.extend(cols)
        if t.rows >= self.chunk_rows:
            t.flush()

    def finish(self, summary: dict[str, Any]) -> None:
        self._close_tables()
        (self.path / "summary.json").write_text(json.dumps(summary, indent=2, default=_jsonable))
        self.metadata.update(status="complete", finished_utc=_now())
        self._write_metadata()

    def abort(self, reason: str) -> None:
        self._close_tables()
        self.metadata.update(status="incomplete", reason=reason, finished_utc=_now())
        self._write_metadata()

    def _close_tables(self) -> None:
        for t in self.tables.values():
            t.close()
        self.db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            return
        reason = "interrupted" if exc_type is KeyboardInterrupt else f"{exc_type.__name__}: {exc}"
        if self.metadata.get("status") == "running":
            self.abort(reason)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _jsonable(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


class Run:
    """A finished (or stopped) run directory, for reading."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        meta = self.path / "metadata.json"
        if not meta.is_file():
            raise FileNotFoundError(f"not a run directory (no metadata.json): {self.path}")
        self.metadata: dict[str, Any] = json.loads(meta.read_text())
        s = self.path / "summary.json"
        self.summary: dict[str, Any] | None = json.loads(s.read_text()) if s.is_file() else None

    @property
    def complete(self) -> bool:
        return self.metadata.get("status") == "complete"

    def query(self, sql: str) -> pa.Table:
        """Run SQL against the run's DuckDB file (read-only)."""
        with duckdb.connect(str(self.path / "telemetry.duckdb"), read_only=True) as con:
            result = con.sql(sql)
            # DuckDB 2 renamed the relation's arrow() to to_arrow_table().
            fetch = getattr(result, "to_arrow_table", None) or result.arrow
            return fetch()

    def table(self, name: str) -> pa.Table:
        return self.query(f"SELECT * FROM {name} ORDER BY t_s")

    def has_table(self, name: str) -> bool:
        return (self.path / f"{name}.parquet").is_file()
