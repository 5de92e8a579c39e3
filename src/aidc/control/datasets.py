"""Offline-RL datasets in the run store's format: one Parquet file of transitions plus its metadata.

A site's control history is a table of (observation, action, reward, next observation, terminal)
rows; here each row also names the behaviour policy and the episode, so the log can be queried
with DuckDB like any run's telemetry. Metadata (environment id, setpoint names, the months,
climate and seed the data came from) is stored in the Parquet schema.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from aidc.control.offline import OfflineDataset

FORMAT = "aidc-offline-dataset-1"


def write_dataset(
    path: str | Path, data: OfflineDataset, *, behaviour: list[str], episode: np.ndarray, metadata: dict
) -> Path:
    """Write ``data`` with one behaviour-policy name and episode index per row."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(data)
    if len(behaviour) != n or len(episode) != n:
        raise ValueError(
            f"behaviour ({len(behaviour)}) and episode ({len(episode)}) need one entry per row ({n})"
        )
    cols = {"behaviour": pa.array(behaviour), "episode": pa.array(np.asarray(episode, dtype=np.int64))}
    for name in ("obs", "actions", "next_obs"):
        arr = getattr(data, name)
        for j in range(arr.shape[1]):
            cols[f"{name}_{j}"] = pa.array(arr[:, j])
    cols["reward"] = pa.array(data.rewards)
    cols["terminal"] = pa.array(data.terminals)
    meta = {"format": FORMAT, "obs_dim": data.obs.shape[1], "act_dim": data.actions.shape[1], **metadata}
    table = pa.table(cols).replace_schema_metadata({"aidc": json.dumps(meta)})
    tmp = path.with_suffix(path.suffix + ".partial")
    pq.write_table(table, tmp)
    tmp.replace(path)  # never leave a half-written file under the final name
    return path


def read_dataset(path: str | Path) -> tuple[OfflineDataset, dict]:
    """The transitions and metadata of a file written by :func:`write_dataset`."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no dataset at {path}")
    try:
        table = pq.read_table(path)
        raw = (table.schema.metadata or {}).get(b"aidc")
        meta = json.loads(raw) if raw else {}
    except (pa.ArrowException, OSError, ValueError) as e:
        raise ValueError(f"{path} is not a readable aidc offline dataset ({e})") from None
    fmt = meta.get("format") if isinstance(meta, dict) else None
    if fmt != FORMAT:
        raise ValueError(f"{path} is not an aidc offline dataset (format {fmt!r})")

    def block(name: str, dim: int) -> np.ndarray:
        return np.column_stack([table.column(f"{name}_{j}").to_numpy() for j in range(dim)])

    try:
        data = OfflineDataset(
            obs=block("obs", meta["obs_dim"]),
            actions=block("actions", meta["act_dim"]),
            rewards=np.array(table.column("reward").to_numpy()),
            next_obs=block("next_obs", meta["obs_dim"]),
            terminals=np.array(table.column("terminal").to_numpy()),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise ValueError(f"{path}: a damaged aidc offline dataset (missing {e})") from None
    return data, meta
