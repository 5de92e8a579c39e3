"""aidc: an open digital twin of an AI data center.

The workload, the GPUs, the cooling plant and the power chain are simulated as one coupled
system: coolant temperature sets junction temperature, which sets leakage power and clocks,
which set throughput and heat. See ``DESIGN.md`` in the repository for the layers.
"""

__version__ = "0.1.0"
