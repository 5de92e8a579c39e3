"""What the GPUs are asked to do: jobs and their per-GPU activity."""

from aidc.workload.jobs import HallWorkload

__all__ = ["HallWorkload"]
