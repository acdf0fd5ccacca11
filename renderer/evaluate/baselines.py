"""The non-learning baselines a user could reach for today, by name, for the harness.

Each is ``(frames, holes) -> frames`` (see ``renderer.fill``): ``telea``, OpenCV's
Telea frame by frame; ``flowprop``, classic flow-guided temporal propagation with a
Telea fallback (``renderer.fill.chains.flow_propagation``).
"""

from __future__ import annotations

from renderer.fill import flow_propagation, telea

BASELINES = {
    "telea": telea,
    "flowprop": flow_propagation,
}
