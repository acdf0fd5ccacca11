"""The classical fills: no learning, each ``(frames, holes) -> frames`` on scene-linear
float32 (F, H, W, 3) frames and bool (F, H, W) holes, known pixels returned bit for bit.

- ``classical``: Telea, the harmonic (diffusion) fill, Telea blended into a fill (Poisson).
- ``flow``: DIS flow between masked frames, completed inside the holes.
- ``chains``: pixels followed along the flow to known pixels; plain flow propagation.
- ``propagate``: the ``standard`` preset's pre-fill (still chains snapped, seams matched).
- ``temporal``: the fill steadied along the flow.
- ``device``, ``device_ops``: the same propagation as batched torch ops, for a GPU.

The evaluation harness measures these; nothing here imports it.
"""

from .chains import flow_propagation
from .classical import telea
from .propagate import guarded_propagation, seamed_propagation

__all__ = ["flow_propagation", "telea", "seamed_propagation", "guarded_propagation"]
