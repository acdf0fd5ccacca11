"""internal-inpaint renderer: per-shot video inpainting (Zhang et al., ICCV 2019).

Import ``renderer.api`` for the public API; this package import stays light.
"""

__version__ = "0.1.0"
