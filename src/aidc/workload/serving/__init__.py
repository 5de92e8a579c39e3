"""LLM serving: a discrete-event simulator of replicas serving a request trace.

``simulator`` (the event kernel and its three handlers), ``replica`` (batch forming, the vLLM-style
scheduler), ``spans`` (fused decode spans), ``routing`` (routers by name), ``request`` (requests,
pool roles, SLOs), ``result`` (latencies, goodput), ``deploy`` (a scenario's serving job as
replicas on the twin's GPUs); the KV memory manager is :mod:`aidc.workload.kvmemory`.
"""

from aidc.workload.serving.config import SchedulerConfig
from aidc.workload.serving.replica import Replica
from aidc.workload.serving.request import SLO, PoolRole, Request, RequestState
from aidc.workload.serving.result import ServingResult
from aidc.workload.serving.routing import ROUTERS
from aidc.workload.serving.simulator import Pool, ServingSim

__all__ = [
    "ROUTERS",
    "SLO",
    "Pool",
    "PoolRole",
    "Replica",
    "Request",
    "RequestState",
    "SchedulerConfig",
    "ServingResult",
    "ServingSim",
]
