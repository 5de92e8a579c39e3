"""Many runs of one scenario: a sweep over field values on Ray (:mod:`aidc.sweep.runner`), its
table and comparison page, and capacity planning by bisection over runs (:mod:`aidc.sweep.capacity`)."""

from aidc.sweep.capacity import Limit, most_that_fits
from aidc.sweep.runner import Outcome, run_sweep
from aidc.sweep.spec import Sweep, load_sweep

__all__ = ["Limit", "Outcome", "Sweep", "load_sweep", "most_that_fits", "run_sweep"]
