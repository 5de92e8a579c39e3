"""Device physics (pure functions) and the GPU catalog."""

from aidc.hardware.catalog import GPU_CATALOG, GPUSpec, get_gpu

__all__ = ["GPU_CATALOG", "GPUSpec", "get_gpu"]
