"""Transfer functions between scene-linear plates and the space we train in.

We train in ACEScct (a log encoding with a linear toe): scene-linear 0.18 maps to
0.41, 1.0 to 0.55, and the network's sigmoid range [0, 1] covers linear
-0.0069 .. 222.9, so highlights far above 1.0 survive a round trip. Values the
encoding cannot hold are clamped only inside the hole; known pixels never pass
through here on their way out.
"""

from __future__ import annotations

import numpy as np

# ACEScct's linear toe (S-2016-001): y = TOE_SLOPE x + TOE_OFFSET below TOE_CUT_LINEAR (TOE_CUT_ENCODED encoded)
TOE_SLOPE = 10.5402377416545
TOE_OFFSET = 0.0729055341958355
TOE_CUT_LINEAR = 0.0078125
TOE_CUT_ENCODED = 0.155251141552511


def linear_to_acescct(x: np.ndarray) -> np.ndarray:
    """Scene-linear -> ACEScct, any shape, float32 out."""
    x = np.asarray(x, dtype=np.float32)
    safe = np.maximum(x, TOE_CUT_LINEAR)
    log = (np.log2(safe) + 9.72) / 17.52
    return np.where(x <= TOE_CUT_LINEAR, TOE_SLOPE * x + TOE_OFFSET, log).astype(np.float32)


def acescct_to_linear(y: np.ndarray) -> np.ndarray:
    """ACEScct -> scene-linear, any shape, float32 out."""
    y = np.asarray(y, dtype=np.float32)
    lin = np.exp2(np.minimum(y, 2.0) * 17.52 - 9.72)
    return np.where(y <= TOE_CUT_ENCODED, (y - TOE_OFFSET) / TOE_SLOPE, lin).astype(np.float32)


def encode(x: np.ndarray) -> np.ndarray:
    """Scene-linear -> the training space, clipped to the network's [0, 1]."""
    return np.clip(linear_to_acescct(x), 0.0, 1.0)


def decode(y: np.ndarray) -> np.ndarray:
    """The training space -> scene-linear."""
    return acescct_to_linear(y)


def linear_to_srgb(x: np.ndarray, clip_highlights: bool = True) -> np.ndarray:
    """Scene-linear -> display sRGB: the piecewise sRGB transfer after clipping to [0, 1]
    (for metrics and pictures), or to [0, inf) when ``clip_highlights`` is False."""
    x = np.clip(np.asarray(x, dtype=np.float32), 0.0, 1.0 if clip_highlights else None)
    return np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055).astype(np.float32)


def display_like(linear: np.ndarray) -> np.ndarray:
    """The sRGB transfer, not clipped above 1.0 (highlights still count): the space fills are
    judged in (``colour_torch.display_like`` on a device). The training space, ACEScct, is
    logarithmic and weighs errors in dark areas far above what a viewer sees; judged there,
    on a night shot (city/blob) the network looked 8 % better than propagation on held-out
    holes and was 1.1 dB worse in the hole."""
    return linear_to_srgb(linear, clip_highlights=False)


def srgb_to_linear(s: np.ndarray) -> np.ndarray:
    """Display sRGB -> scene-linear; above 1.0 too, so it undoes ``display_like``."""
    s = np.asarray(s, dtype=np.float32)
    return np.where(s <= 0.04045, s / 12.92, np.power((np.maximum(s, 0.04045) + 0.055) / 1.055, 2.4)
                    ).astype(np.float32)
