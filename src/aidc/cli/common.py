"""What every ``aidc`` command shares: the app, the consoles, exit codes, bad-input and signal handling.

Exit codes (:class:`ExitCode`): 0 success; 1 the run failed while simulating (the run folder is
marked incomplete); 2 bad input (scenario, files it names, run folders, output paths, options):
nothing was written; 128 + the signal's number when stopped by a signal, after marking the run
incomplete with everything flushed so far: 129 SIGHUP, 130 SIGINT (Ctrl-C), 143 SIGTERM (what
``timeout``, Slurm and Kubernetes send). SIGKILL cannot be caught: such a run keeps every chunk
flushed before it and reads as "incomplete (interrupted)".
"""

from __future__ import annotations

import enum
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import typer

from aidc.report.summary import console as make_console
from aidc.scenario import ScenarioError, load_scenario

console = make_console()
err_console = make_console(stderr=True)
app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="aidc: a digital twin of an AI data center."
)


class ExitCode(enum.IntEnum):
    OK = 0
    RUN_FAILED = 1
    BAD_INPUT = 2
    HANGUP = 128 + signal.SIGHUP
    INTERRUPTED = 128 + signal.SIGINT
    TERMINATED = 128 + signal.SIGTERM


class Stopped(KeyboardInterrupt):
    """A stop by a signal, raised where the program is, so that everything unwinds as after Ctrl-C."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


@contextmanager
def signals_stop() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`Stopped` (as SIGINT raises KeyboardInterrupt) while inside."""

    def stop(signum: int, frame: object) -> None:
        raise Stopped(signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def stopped(e: KeyboardInterrupt, what: str) -> typer.Exit:
    signum = e.signum if isinstance(e, Stopped) else signal.SIGINT
    err_console.print(f"[yellow]{signal.Signals(signum).name}[/]: {what}")
    return typer.Exit(128 + signum)


def bad_input(problems: list[str], source: str) -> typer.Exit:
    err_console.print(f"[bold red]error[/]: {source} is not valid:")
    for p in problems:
        err_console.print(f"  • {p}")
    return typer.Exit(ExitCode.BAD_INPUT)


def load(path: Path):
    try:
        return load_scenario(path)
    except ScenarioError as e:
        raise bad_input(e.problems, str(path)) from None


def writable(path: Path, overwrite: bool, option: str, what: str) -> None:
    """Exit 2 before any work if ``path`` cannot be written or would replace a file unasked."""
    from aidc.telemetry.folder import OutputError, check_writable_file

    try:
        check_writable_file(path, overwrite, what)
    except OutputError as e:
        raise bad_input([str(e)], option) from None


