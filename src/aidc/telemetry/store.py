"""The run store: one folder per run, readable whenever and however the writer stopped.

::

    RUN/
      metadata.json      scenario, versions, seed, component configs, status (replaced atomically)
      telemetry.duckdb   tables facility, halls, serving (one row per serving job and step), and gpus
                         when per-GPU telemetry is on (rows made by aidc.telemetry.rows)
      facility/          the same tables as Parquet: one closed part file per flushed chunk,
      halls/             part-000000.parquet, part-000001.parquet, … (a Parquet dataset)
      serving/
      gpus/
      summary.json       run metrics (written last, only when the run completed)
      .aidc.lock         the writer's lock (aidc.telemetry.folder)

Rows are buffered and flushed every ``chunk_rows`` samples, so memory stays bounded whatever the
run length. A flush writes the chunk's part file under a hidden name and renames it into place,
then inserts the chunk into DuckDB (one committed transaction; DuckDB's write-ahead log replays it
on the next open). So after any stop, ``kill -9`` included, every part file is a whole Parquet file
and DuckDB holds every chunk flushed before the stop but possibly the last one, which is in Parquet.

``metadata.json`` says ``"status": "running"`` from the start and ``"complete"`` at the end; a run
stopped by an exception or a signal is marked ``"incomplete"`` with its reason. A run that still
says ``"running"`` while no process holds its lock was killed outright: :attr:`Run.status` reports
it as ``"incomplete (interrupted)"``.
"""

from __future__ import annotations

import json
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from aidc.telemetry.folder import (
    PART_PREFIX,
    TABLES,
    OutputError,
    RunBusyError,
    RunExistsError,
    claim_run_folder,
    now_utc,
    read_metadata,
    writer_pid,
)

__all__ = ["TABLES", "OutputError", "Run", "RunBusyError", "RunError", "RunExistsError", "RunStore"]


class _Table:
    def __init__(self, store: RunStore, name: str):
        self.store, self.name = store, name
        self.columns: dict[str, list[Any]] = {}
        self.rows = 0
        self.parts = 0
        self.schema: pa.Schema | None = None

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
        """Write the buffered rows as one part file, then into DuckDB. Stop signals wait until both
        are done (a signal caught in between would leave the two out of step)."""
        if not self.rows:
            return
        with _signals_held():
            self._write_chunk()

    def _write_chunk(self) -> None:
        table = pa.table(self.columns, schema=self.schema)
        folder = self.store.path / self.name
        db = self.store.db
        db.register("chunk", table)
        if self.schema is None:
            self.schema = table.schema
            folder.mkdir(exist_ok=True)
            db.execute(f"CREATE TABLE {self.name} AS SELECT * FROM chunk LIMIT 0")
        part = f"{PART_PREFIX}{self.parts:06d}.parquet"
        tmp = folder / f".{part}.tmp"
        pq.write_table(table, tmp)
        tmp.replace(folder / part)
        db.execute(f"INSERT INTO {self.name} SELECT * FROM chunk")
        db.unregister("chunk")
        self.parts += 1
        self.columns = {k: [] for k in self.columns}
        self.rows = 0


@contextmanager
def _signals_held() -> Iterator[None]:
    """Stop signals (SIGINT, SIGTERM, SIGHUP) that arrive while inside are delivered on the way out,
    to whatever handler was installed, so a chunk is never left half written. (Blocking them with
    a signal mask would not do: DuckDB's worker threads would take them.) SIGKILL cannot be held;
    the part-file order covers it. Only the main thread handles signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    held = [s for s in _STOP_SIGNALS if signal.getsignal(s) is not None]
    previous = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in held}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if pending:
            signal.raise_signal(pending[0])


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}


class RunStore:
    """Writes one run folder. Use as a context manager around the simulation loop.

    The folder is claimed first (:func:`aidc.telemetry.folder.claim_run_folder`: ``OutputError``
    before anything is written if it may not be); the writer's lock is held until the store closes.
    """

    def __init__(
        self, path: str | Path, metadata: dict[str, Any], chunk_rows: int = 2048, overwrite: bool = False
    ):
        self.path = Path(path)
        self.lock = claim_run_folder(self.path, overwrite)
        try:
            self.chunk_rows = chunk_rows
            self.metadata = {**metadata, "status": "running", "started_utc": now_utc()}
            self._write_json("metadata.json", self.metadata)
            self.db = duckdb.connect(str(self.path / "telemetry.duckdb"))
        except BaseException:
            self.lock.release()
            raise
        self.tables = {name: _Table(self, name) for name in TABLES}

    def _write_json(self, name: str, data: dict[str, Any]) -> None:
        """Atomically; a NaN or infinite number (a percentile of no requests) is written as null,
        so the file stays JSON that any reader accepts."""
        tmp = self.path / f"{name}.tmp"
        tmp.write_text(json.dumps(_finite(data), indent=2, default=_jsonable, allow_nan=False))
        tmp.replace(self.path / name)

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
        self._write_json("summary.json", summary)
        self.metadata.update(status="complete", finished_utc=now_utc())
        self._write_json("metadata.json", self.metadata)
        self.lock.release()

    def abort(self, reason: str) -> None:
        """Mark the run incomplete, keeping every row buffered so far (best effort: a failure while
        flushing still leaves the reason in the metadata)."""
        try:
            self._close_tables()
        finally:
            self.metadata.update(status="incomplete", reason=reason, finished_utc=now_utc())
            self._write_json("metadata.json", self.metadata)
            self.lock.release()

    def _close_tables(self) -> None:
        try:
            for t in self.tables.values():
                t.flush()
        finally:
            self.db.close()

    def __enter__(self) -> RunStore:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            return
        if self.metadata.get("status") == "running":
            self.abort(_stop_reason(exc_type, exc))


def _stop_reason(exc_type: type[BaseException], exc: BaseException | None) -> str:
    if issubclass(exc_type, KeyboardInterrupt):
        return str(exc) if str(exc).startswith("interrupted") else "interrupted"
    return f"{exc_type.__name__}: {exc}"


def _finite(o: Any) -> Any:
    if isinstance(o, dict):
        return {k: _finite(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_finite(v) for v in o]
    if isinstance(o, float | np.floating):
        return float(o) if np.isfinite(o) else None
    return o


def _jsonable(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serializable: {type(o).__name__}")


class RunError(ValueError):
    """A folder that is not a readable aidc run (missing, not a run, corrupt metadata)."""


class Run:
    """A run folder, for reading: complete, stopped, killed, or still being written.

    Queries go to the run's DuckDB file; when it cannot be opened (a live writer holds it, it is
    missing or damaged) they go to the Parquet part files instead, through an in-memory DuckDB
    (:attr:`source` says which). ``RunError`` if ``path`` is not a readable run.
    """

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if not self.path.is_dir():
            raise RunError(f"not a run folder: {self.path} does not exist or is not a folder")
        try:
            meta = read_metadata(self.path)
        except (ValueError, OSError) as e:
            raise RunError(f"not a readable run: {e}") from None
        if meta is None:
            raise RunError(f"not a run folder (no metadata.json object): {self.path}")
        self.metadata: dict[str, Any] = meta
        self.summary = self._read_summary()
        self.source = "duckdb"

    def _read_summary(self) -> dict[str, Any] | None:
        s = self.path / "summary.json"
        if not s.is_file():
            return None
        try:
            data = json.loads(s.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise RunError(f"not a readable run: {s}: {e}") from None
        return data if isinstance(data, dict) else None

    @property
    def complete(self) -> bool:
        return self.metadata.get("status") == "complete" and self.summary is not None

    @property
    def status(self) -> str:
        """``complete``, ``running (PID n)``, ``incomplete (reason)`` or ``incomplete (interrupted)``
        for a run whose writer is gone without a word."""
        status = self.metadata.get("status")
        if status == "complete" and self.summary is not None:
            return "complete"
        if status == "running":
            pid = writer_pid(self.path)
            return f"running (PID {pid})" if pid is not None else "incomplete (interrupted)"
        return f"incomplete ({self.metadata.get('reason') or 'no summary'})"

    def query(self, sql: str) -> pa.Table:
        """Run SQL against the run's tables (read-only)."""
        try:
            with duckdb.connect(str(self.path / "telemetry.duckdb"), read_only=True) as con:
                self.source = "duckdb"
                return _fetch(con.sql(sql))
        except duckdb.Error as e:
            if not self.tables():
                raise RunError(f"{self.path}: no readable telemetry ({e})") from None
        with duckdb.connect() as con:
            self.source = "parquet"
            for name in self.tables():
                con.read_parquet(self._parts(name)).create_view(name)
            return _fetch(con.sql(sql))

    def table(self, name: str) -> pa.Table:
        return self.query(f"SELECT * FROM {name} ORDER BY t_s")

    def has_table(self, name: str) -> bool:
        return name in self.tables()

    def tables(self) -> list[str]:
        """The tables with at least one flushed chunk."""
        return [t for t in TABLES if self._parts(t)]

    def _parts(self, name: str) -> list[str]:
        folder = self.path / name
        if folder.is_dir():
            return sorted(str(p) for p in folder.glob(f"{PART_PREFIX}*.parquet"))
        single = self.path / f"{name}.parquet"  # runs written before part files
        return [str(single)] if single.is_file() else []


def _fetch(relation: duckdb.DuckDBPyRelation) -> pa.Table:
    # DuckDB 2 renamed the relation's arrow() to to_arrow_table().
    fetch = getattr(relation, "to_arrow_table", None) or relation.arrow
    return fetch()
