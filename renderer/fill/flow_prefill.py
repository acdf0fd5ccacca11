"""A second pre-fill for DIS that moves with the background, and the fusion of the two flows.

DIS runs on frames whose holes are pre-filled with Telea. That pre-fill moves with the
hole, and DIS's coarse levels drag the flow beside the hole along with it
([decision 0029](../../docs/decisions/0029-flow-beside-the-hole-that-moves-with-it.md)).
The completion then carries the drag inside. For a pair with a hole, each frame's hole is
also filled from the other frame through the background's homography, so that it moves as
the background does, and DIS runs again on that pair. Where something beside the hole
moves otherwise, that second flow is the worse one. So the two are fused pixel by pixel:
each pixel keeps the flow whose landing in the other frame matches it better
([decision 0058](../../docs/decisions/0058-a-pre-fill-that-moves-with-the-background.md)).

Everything here works on one pair at the flow's size: uint8 display grey, as DIS sees it.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..errors import ShapeError
from .flow_regions import background_homography

FUSE_WINDOW = 7  # px: the box over which each flow's landing error is averaged
FUSE_NEAR_SHARE = 0.5  # of that box judged at least, or the pixel is judged over FUSE_WIDE
# px: the box that judges pixels whose landing falls in the other frame's hole (no grey to
# compare there): the flow that matches better over it is taken, where at least
# FUSE_WIDE_SHARE of it is judged; else the Telea pre-fill's flow stays
FUSE_WIDE = 41
FUSE_WIDE_SHARE = 0.05


def _check_pair(grey0: np.ndarray, grey1: np.ndarray, hole0: np.ndarray, hole1: np.ndarray) -> None:
    if grey0.ndim != 2 or grey0.shape != grey1.shape or hole0.shape != grey0.shape or hole1.shape != grey0.shape:
        raise ShapeError(f"a pair needs two (H, W) greys and two (H, W) holes of one size, got {grey0.shape}, "
                         f"{grey1.shape}, {hole0.shape}, {hole1.shape}")


def background_prefill(grey0: np.ndarray, grey1: np.ndarray, hole0: np.ndarray, hole1: np.ndarray,
                       homography: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """uint8 (H, W) greys with their holes (bool (H, W)) pre-filled, and the 3x3
    ``homography`` taking frame 0's points to frame 1's -> the two greys with each hole
    filled from the other frame through it. Frame 0's hole takes frame 1 where frame 1 is
    known there; frame 1's hole takes frame 0 as just filled. What the homography takes
    out of the other frame keeps the pre-fill it had."""
    _check_pair(grey0, grey1, hole0, hole1)
    h, w = grey0.shape
    inverse_map = cv2.WARP_INVERSE_MAP
    from1 = cv2.warpPerspective(grey1, homography, (w, h), flags=cv2.INTER_LINEAR | inverse_map)
    known1 = cv2.warpPerspective((~hole1).astype(np.uint8), homography, (w, h),
                                 flags=cv2.INTER_NEAREST | inverse_map, borderValue=0) > 0
    filled0 = np.where(hole0 & known1, from1, grey0)
    back = np.linalg.inv(homography)
    from0 = cv2.warpPerspective(filled0, back, (w, h), flags=cv2.INTER_LINEAR | inverse_map)
    inside0 = cv2.warpPerspective(np.ones((h, w), np.uint8), back, (w, h),
                                  flags=cv2.INTER_NEAREST | inverse_map, borderValue=0) > 0
    filled1 = np.where(hole1 & inside0, from0, grey1)
    return filled0, filled1


def landing_error(grey0: np.ndarray, grey1: np.ndarray, hole1: np.ndarray, flow: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray]:
    """float32 (H, W): |grey0(x) - grey1(x + flow(x))| (bilinear), and bool (H, W): where
    that landing is in frame 1's hole or outside the frame (nothing to compare there)."""
    h, w = grey0.shape
    xs, ys = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    map_x, map_y = xs + flow[..., 0], ys + flow[..., 1]
    landed = cv2.remap(grey1.astype(np.float32), map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    unseen = cv2.remap(hole1.astype(np.uint8), map_x, map_y, cv2.INTER_NEAREST, borderMode=cv2.BORDER_CONSTANT,
                       borderValue=1) > 0
    return np.abs(grey0.astype(np.float32) - landed), unseen


def fused_flow(plain: np.ndarray, moved: np.ndarray, grey0: np.ndarray, grey1: np.ndarray,
               hole0: np.ndarray, hole1: np.ndarray) -> np.ndarray:
    """Two flows (H, W, 2) of frame 0 into frame 1 -> one: at each pixel, ``moved`` where
    its landing error (``landing_error``, averaged over ``FUSE_WINDOW``) is lower than
    ``plain``'s, else ``plain``. Only pixels outside frame 0's hole whose two landings
    both reach frame 1's known pixels are compared; a pixel with less than
    ``FUSE_NEAR_SHARE`` of its window compared is judged over ``FUSE_WIDE`` instead, and
    keeps ``plain`` where too little of that is compared. The greys are the ones DIS saw for ``plain``."""
    _check_pair(grey0, grey1, hole0, hole1)
    if plain.shape != grey0.shape + (2,) or moved.shape != plain.shape:
        raise ShapeError(f"fused_flow needs two (H, W, 2) flows of the greys' size, got {plain.shape}, {moved.shape}")
    error_plain, unseen_plain = landing_error(grey0, grey1, hole1, plain)
    error_moved, unseen_moved = landing_error(grey0, grey1, hole1, moved)
    judged = ~hole0 & ~unseen_plain & ~unseen_moved
    error_plain = np.where(judged, error_plain, 0.0).astype(np.float32)
    error_moved = np.where(judged, error_moved, 0.0).astype(np.float32)
    judged = judged.astype(np.float32)

    def better(size: int, share: float) -> tuple[np.ndarray, np.ndarray]:
        box = (size, size)
        seen = cv2.blur(judged, box)
        return cv2.blur(error_moved, box) < cv2.blur(error_plain, box), seen > share

    near, near_seen = better(FUSE_WINDOW, FUSE_NEAR_SHARE)
    wide, wide_seen = better(FUSE_WIDE, FUSE_WIDE_SHARE)
    take = np.where(near_seen, near, wide & wide_seen)
    return np.where(take[..., None], moved, plain).astype(np.float32)


def pair_flows(dis, grey0: np.ndarray, grey1: np.ndarray, hole0: np.ndarray, hole1: np.ndarray,
               forward: np.ndarray, backward: np.ndarray, usable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A pair's flows (H, W, 2) ``forward`` (0 -> 1) and ``backward`` (1 -> 0), measured by
    ``dis`` on the Telea-pre-filled greys, fused with the flows it measures on
    ``background_prefill``'s greys. The homography is fitted to ``forward`` at the
    ``usable`` pixels (``flow_regions.background_usable``); where none is found, the
    flows are returned as they are."""
    homography = background_homography(forward, usable)
    if homography is None or abs(np.linalg.det(homography)) < 1e-6:
        return forward, backward
    moved0, moved1 = background_prefill(grey0, grey1, hole0, hole1, homography)
    moved_forward = dis.calc(moved0, moved1, None)
    moved_backward = dis.calc(moved1, moved0, None)
    return (fused_flow(forward, moved_forward, grey0, grey1, hole0, hole1),
            fused_flow(backward, moved_backward, grey1, grey0, hole1, hole0))
