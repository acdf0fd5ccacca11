"""``renderer bench``: training throughput, FLOP/s as a fraction of the device's own
matmul peak, and how time and memory scale with frames and resolution.

* ``core``  matmul peak, conv FLOP counting, one timed configuration
* ``suite`` the standard set of configurations and the report (table, plot, JSON)
* ``cli``   the click command
"""

from .errors import BenchError

__all__ = ["BenchError"]
