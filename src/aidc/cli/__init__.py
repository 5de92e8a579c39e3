"""``aidc``: the command line, a thin shell over :mod:`aidc.api` (one module per group of commands;
exit codes in :mod:`aidc.cli.common`)."""

from aidc.cli import (  # noqa: F401  (each registers its commands on the app)
    calibrate,
    catalog,
    control,
    export,
    power,
    profile,
    record,
    run,
    serve,
    sweep,
    whatif,
)
from aidc.cli.common import ExitCode, app

__all__ = ["ExitCode", "app", "main"]


def main() -> None:
    app()
