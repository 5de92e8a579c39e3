"""A run folder's safety: which files aidc writes there, the writer's lock, and the rules for
replacing a folder.

Three rules protect what aidc did not write:

* a folder is replaced (``overwrite``) only if it holds an aidc run (a ``metadata.json`` object
  with aidc's ``versions`` or a writer lock), and then only the files aidc writes are removed:
  anything else a user put there stays;
* a folder that exists and holds anything is never written into without ``overwrite``;
* one writer at a time: the writer holds an advisory ``flock`` on ``RUN/.aidc.lock`` (its PID and
  start time inside, for the message). The kernel releases the lock when the process ends, however
  it ends (``kill -9`` included), so a stale lock never blocks a new run and a reader can tell a
  live run from one whose writer is gone. ``flock`` is local to a machine: two hosts writing one
  run folder on a network file system are not detected.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

LOCK_FILE = ".aidc.lock"
TABLES = ("facility", "halls", "gpus", "serving", "host")  # host: aidc record's readings
# Every name aidc writes in a run folder: the writer's files, each table's Parquet part files (a
# folder per table; ``TABLE.parquet`` files from runs before part files), and the default report.
RUN_FILES = (
    "metadata.json",
    "metadata.json.tmp",
    "summary.json",
    "summary.json.tmp",
    "telemetry.duckdb",
    "telemetry.duckdb.wal",
    "report.html",
    *(f"{t}.parquet" for t in TABLES),
)
PART_PREFIX = "part-"


class OutputError(ValueError):
    """An output path aidc must not or cannot write (exit status 2: nothing was written)."""


class RunExistsError(OutputError, FileExistsError):
    """The run folder exists and ``overwrite`` was not given."""


class RunBusyError(OutputError):
    """Another live process is writing this run folder."""


def read_metadata(path: Path) -> dict[str, Any] | None:
    """The folder's ``metadata.json`` as an object, or None when it is missing or not an object.
    ``ValueError`` when it exists but is not JSON."""
    meta = path / "metadata.json"
    if not meta.is_file():
        return None
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"{meta}: not valid JSON ({e})") from None
    return data if isinstance(data, dict) else None


def holds_aidc_run(path: Path) -> bool:
    """Whether ``path`` holds a run aidc wrote (its metadata, or its writer's lock)."""
    if (path / LOCK_FILE).is_file():
        return True
    try:
        meta = read_metadata(path)
    except (ValueError, OSError):
        return False
    return meta is not None and isinstance(meta.get("versions"), dict) and "aidc" in meta["versions"]


def writer_pid(path: Path) -> int | None:
    """The PID of the live process writing the run at ``path``, or None when nobody writes it."""
    lock = path / LOCK_FILE
    try:
        fd = os.open(lock, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _lock_owner(lock)
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _lock_owner(lock: Path) -> int:
    try:
        return int(json.loads(lock.read_text())["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return -1


class RunLock:
    """The writer's lock on a run folder; ``RunBusyError`` if a live process holds it."""

    def __init__(self, path: Path):
        self.path = path / LOCK_FILE
        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as e:
            raise OutputError(f"cannot write in {path}: {e.strerror}") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.fd)
            raise RunBusyError(
                f"{path} is being written by another aidc process (PID {_lock_owner(self.path)})"
            ) from None
        owner = {"pid": os.getpid(), "host": socket.gethostname(), "since_utc": now_utc()}
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, json.dumps(owner).encode(), 0)

    def release(self) -> None:
        if self.fd >= 0:
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = -1


def claim_run_folder(path: Path, overwrite: bool) -> RunLock:
    """Create (or, with ``overwrite``, clear) the run folder ``path`` and lock it for writing.

    Checked before anything is created or removed: ``path`` is not a file; an existing folder with
    anything in it needs ``overwrite`` and must hold an aidc run. Under the lock the check is made
    again (another writer may have finished meanwhile), then only aidc's files are removed.
    """
    _check_replaceable(path, overwrite)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"cannot create the run folder {path}: {_reason(e)}") from None
    lock = RunLock(path)
    try:
        _check_replaceable(path, overwrite, locked=True)
        _remove_run_files(path)
    except BaseException:
        lock.release()
        raise
    return lock


def check_run_folder(path: Path, overwrite: bool) -> None:
    """``OutputError`` if a run may not be written at ``path`` (the checks of
    :func:`claim_run_folder`, without creating anything), and if it cannot be: a read-only file
    system or a folder without write permission on the way."""
    _check_replaceable(path, overwrite)
    _check_can_create(path / "metadata.json" if path.is_dir() else path, "the run folder")


def _check_replaceable(path: Path, overwrite: bool, locked: bool = False) -> None:
    if path.exists() and not path.is_dir():
        raise OutputError(f"{path} exists and is not a folder")
    if not path.is_dir():
        return
    contents = [p.name for p in path.iterdir() if not (locked and p.name == LOCK_FILE)]
    if not contents:
        return
    if not holds_aidc_run(path):
        raise OutputError(
            f"{path} exists and does not hold an aidc run (no aidc metadata.json); "
            "aidc replaces only its own run folders: choose another --out"
        )
    if not overwrite:
        raise RunExistsError(f"run folder exists: {path} (use --overwrite to replace it)")
    if not locked and (pid := writer_pid(path)) is not None:
        raise RunBusyError(f"{path} is being written by another aidc process (PID {pid})")


def _remove_run_files(path: Path) -> None:
    """Remove what aidc writes in a run folder, nothing else."""
    for name in RUN_FILES:
        with contextlib.suppress(FileNotFoundError):
            (path / name).unlink()
    for table in TABLES:
        folder = path / table
        if not folder.is_dir():
            continue
        for part in folder.iterdir():
            if part.name.startswith((PART_PREFIX, "." + PART_PREFIX)) and part.is_file():
                part.unlink()
        with contextlib.suppress(OSError):  # left in place if it holds files aidc did not write
            folder.rmdir()


def check_writable_file(path: Path, overwrite: bool, what: str = "output file") -> None:
    """``OutputError`` unless ``path`` can be written without replacing anything: its folder exists
    (or can be made) and is writable, and ``path`` does not exist unless ``overwrite``. Nothing is
    left behind by the check."""
    if path.is_dir():
        raise OutputError(f"{what} {path} is a folder")
    if path.exists() and not overwrite:
        raise OutputError(f"{what} {path} exists (use --overwrite to replace it)")
    _check_can_create(path, what)
    if path.exists() and not os.access(path, os.W_OK):
        raise OutputError(f"cannot write {what} {path}: permission denied")


def _check_can_create(path: Path, what: str) -> None:
    """``OutputError`` if ``path`` (a file or folder) cannot be created below its nearest existing
    ancestor: a file in the way, a read-only file system, no write permission."""
    probe = path.parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"cannot write {what} {path}: {probe} is a file, not a folder")
    if _read_only_fs(probe):
        raise OutputError(f"cannot write {what} {path}: {probe} is on a read-only file system")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write {what} {path}: no write permission in {probe}")


def _read_only_fs(folder: Path) -> bool:
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        return False


def _reason(e: OSError) -> str:
    if e.errno == errno.ENOTDIR:
        return "a part of the path is a file, not a folder"
    return e.strerror or str(e)


def now_utc() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
