"""Exemplar-based completion of one frame's hole: PatchMatch nearest-neighbour fields and
Wexler voting, coarse to fine (Wexler et al. 2007, Newson et al. 2014, one frame at a time).

Telea, the harmonic fill and flow propagation all leave a smooth smear where no frame
shows the background. This fill copies texture from the known pixels of the same frame
instead: every patch that overlaps the hole is matched to a patch made only of known
pixels (its nearest neighbour, found by PatchMatch), and every hole pixel becomes the
weighted mean of what the patches over it say it should be. Matching and voting
alternate, on a pyramid, from a level where the hole is a few patches wide to the frame.
It is the classical synthesis baseline of the evaluation (``patchmatch``), and a fill the
pipeline can reuse: the detail layer (``fill.detail``) asks for a ``sharp`` last step,
which copies each hole pixel from the closest patch over it instead of voting.

Images are float (H, W, 3) scene-linear, holes bool (H, W), True = fill; known pixels come
back as they were, bit for bit. The work is done in the ACEScct encoding of
``renderer.colour`` (patch distances there follow what the eye sees, and highlights above
1.0 survive), on a box around the hole only, so the cost follows the hole, not the plate.

A patch distance compares the colour and, with Newson's weight, two texture features
(the local mean absolute luma differences): on colour alone a smooth patch is the closest
match to a smooth start, and the fill stays a smear. On 12 single frames of the two
development clips (bikes.mp4, cityCC0.mpg) at 1280x720 with the centred 216x180 box hole
of ``benchmarks/patchmatch_speed.py``, the features raise the fill's detail
(``renderer.evaluate.metrics.detail``) from 0.4 to 1.0 of the footage's (median over the
frames and seeds 0 and 1), for 1.1 dB of hole PSNR (16.2 -> 15.0 dB; Telea 16.4 dB,
detail 0.3).

Everything is vectorised over the patches: PatchMatch's propagation looks at the
neighbours at a few jump lengths in one direction at a time for every patch at once (as
in jump flooding), instead of a scan in raster order. ``patchmatch_video`` runs the
frames in order, each frame's finest level offered the previous frame's matches. One
level's geometry, matching, voting and sharp copy live in ``fill.patch_level``; this module
holds the pyramid and the frame and video drivers.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..colour import decode, encode
from ..errors import ShapeError
from ..parallel import count_finished
from .classical import check_video, telea_frame
from .patch_level import PatchLevel, downsample, hole_width, source_centres, with_texture

PATCH = 7  # px, odd: 7x7 (Newson's size) holds a texture's structure and is cheap to compare
MARGIN_PATCHES = 3  # the box around the hole grows by at least this many patches (and by the hole's size)
COARSEST_HOLE_PATCHES = 2  # the pyramid stops where the hole is about this many patches wide
MIN_LEVEL_PATCHES = 3  # a coarser level needs a box at least this many patches high and wide
EM_ITERATIONS = 4  # match-and-vote rounds per pyramid level
VIDEO_ITERATIONS = 2  # rounds on a frame that starts from the previous frame's field
FIRST_PASSES = 3  # PatchMatch passes of the first round on the coarsest level (the field starts random)
FINE_SEARCH = 16  # px: random search radius below the coarsest level (whole box there: no better, slower)
# target patches on a level above which it is not matched, only voted from the coarser
# level's doubled matches (uniform weights): the doubled field already places the
# texture, and the vote copies the plate's own pixels, so the detail stays at plate
# resolution. On a third of a 2048x1080 frame of the city clip (744k hole pixels), the
# detail layer's fine energy over the truth's went from 1.05 to 1.00, its time from 29.5
# to 7.5 s and its peak memory from 2.6 to 1.0 GiB; a third of 4096x2160 takes 16 s.
MATCH_TARGETS = 1 << 19


@dataclass(frozen=True)
class PatchField:
    """A nearest-neighbour field over the box ``(y0, y1, x0, x1)`` (half-open, frame
    coordinates) around a hole: ``source`` int32 (y1 - y0, x1 - x0, 2) holds, for every
    patch centre whose ``patch`` x ``patch`` patch overlaps the hole, the frame (y, x) of
    the centre of the known patch it copies; -1 elsewhere."""

    box: tuple[int, int, int, int]
    source: np.ndarray
    patch: int


# ---------------------------------------------------------------- guards and geometry
def _check_frame(frame: np.ndarray, hole: np.ndarray, patch: int) -> None:
    if not isinstance(frame, np.ndarray) or frame.ndim != 3 or frame.shape[-1] != 3:
        raise ShapeError(f"frame must be (H, W, 3) scene-linear, got {getattr(frame, 'shape', type(frame))}")
    if not np.issubdtype(frame.dtype, np.floating):
        raise ShapeError(f"frame must be floating point (H, W, 3), got {frame.dtype}")
    if not isinstance(hole, np.ndarray) or hole.dtype != bool or hole.shape != frame.shape[:2]:
        raise ShapeError(f"hole must be bool {frame.shape[:2]}, got "
                         f"{getattr(hole, 'dtype', type(hole))} {getattr(hole, 'shape', '')}")
    if not isinstance(patch, (int, np.integer)) or patch < 3 or patch % 2 == 0:
        raise ShapeError(f"patch must be an odd number of pixels >= 3, got {patch!r}")


def _hole_box(hole: np.ndarray, patch: int) -> tuple[int, int, int, int]:
    """The hole's bounding box grown by max(MARGIN_PATCHES patches, the hole's larger side),
    clipped to the frame: (y0, y1, x0, x1), half-open."""
    ys = np.flatnonzero(hole.any(axis=1))
    xs = np.flatnonzero(hole.any(axis=0))
    y0, y1, x0, x1 = int(ys[0]), int(ys[-1]) + 1, int(xs[0]), int(xs[-1]) + 1
    margin = max(MARGIN_PATCHES * patch, y1 - y0, x1 - x0)
    h, w = hole.shape
    return max(y0 - margin, 0), min(y1 + margin, h), max(x0 - margin, 0), min(x1 + margin, w)


# ---------------------------------------------------------------- the frame
def _auto_levels(hole: np.ndarray, patch: int) -> int:
    """Coarser levels until the hole is about ``COARSEST_HOLE_PATCHES`` patches wide."""
    width, levels = hole_width(hole), 0
    while width / 2 ** levels > COARSEST_HOLE_PATCHES * patch:
        levels += 1
    return levels


def _pyramid(image: np.ndarray, hole: np.ndarray, levels: int, half: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(image, hole)] finest first; a coarser level is added only if its box is at least
    ``MIN_LEVEL_PATCHES`` patches high and wide and it still has known patches to copy."""
    pyramid = [(image, hole)]
    for _ in range(levels):
        coarse, coarse_hole = downsample(*pyramid[-1])
        if min(coarse_hole.shape) < MIN_LEVEL_PATCHES * (2 * half + 1) or not source_centres(coarse_hole, half).any():
            break
        pyramid.append((coarse, coarse_hole))
    return pyramid


def _offer_carried(level: PatchLevel, init: PatchField) -> int:
    """Offer every target of ``level`` (distances up to date) the match of the target at the
    same place in ``init``, a field over a box of the same size: the source at the same
    place in its box. It is taken where it is valid and at least as close as the current
    match (ties go to the old match, for steadiness). Returns how many were taken."""
    old = init.source[level.ty, level.tx]
    sy = old[:, 0].astype(np.int64) - init.box[0]
    sx = old[:, 1].astype(np.int64) - init.box[2]
    ok = (old[:, 0] >= 0) & (sy >= level.half) & (sy < level.h - level.half)
    ok &= (sx >= level.half) & (sx < level.w - level.half)
    ok[ok] = level.valid[sy[ok], sx[ok]]
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return 0
    d = level.distance(rows, sy[rows], sx[rows])
    take = d <= level.dist[rows]
    rows = rows[take]
    level.sy[rows], level.sx[rows], level.dist[rows] = sy[rows], sx[rows], d[take]
    return int(rows.size)


def _upsample_field(fine: PatchLevel, coarse: PatchLevel) -> None:
    """Each fine target takes its coarse parent's match, doubled, at the same sub-pixel
    position; matches that no longer land on a valid source are drawn at random."""
    gy, gx = coarse.grid()
    py = np.minimum(fine.ty // 2, coarse.h - 1)
    px = np.minimum(fine.tx // 2, coarse.w - 1)
    my, mx = gy[py, px], gx[py, px]
    has = my >= 0
    sy = np.where(has, 2 * my + (fine.ty - 2 * py), -1)
    sx = np.where(has, 2 * mx + (fine.tx - 2 * px), -1)
    fine.set_field(sy, sx)


def expected_rounds(hole: np.ndarray, patch: int = PATCH) -> int:
    """The match-and-vote rounds ``patchmatch_frame`` makes on ``hole`` at most (fewer once
    converged): what its progress is counted against."""
    return (_auto_levels(hole, patch) + 1) * EM_ITERATIONS


def patchmatch_frame(frame_linear: np.ndarray, hole: np.ndarray, *, patch: int = PATCH, levels: int | None = None,
                     iterations: int | None = None, seed: int = 0, init: PatchField | None = None,
                     sharp: bool = False) -> tuple[np.ndarray, PatchField | None]:
    """Exemplar-based completion of one frame.

    frame_linear float (H, W, 3) scene-linear, hole bool (H, W) -> (filled (H, W, 3)
    float32 with the known pixels the input's bit for bit, the ``PatchField`` of the
    finest level, or None where nothing was matched).

    The work happens on the hole's box (``_hole_box``) in ACEScct. ``levels`` coarser
    levels (None: until the hole is about ``COARSEST_HOLE_PATCHES`` patches wide; fewer if
    a level would be under ``MIN_LEVEL_PATCHES`` patches or hold no known patch); the
    coarsest starts from Telea and a random field, every finer one from the field of the
    level above, doubled. On each level ``iterations`` rounds of PatchMatch (``patch`` x
    ``patch`` patches, a target is any patch that overlaps the hole, a source any patch of
    known pixels) and voting, fewer once the hole stops changing (``CONVERGED``); a level
    with more than ``MATCH_TARGETS`` targets is only voted from the doubled field.

    ``init``, the field of an earlier frame over a box of the same size (``patchmatch_video``):
    the coarser levels run as above, so a cut or a new background cannot be held back by
    it, and the finest level starts from its matches wherever they fit the frame at least
    as well as the ones from the level above, with ``VIDEO_ITERATIONS`` rounds there
    (unless ``iterations`` is given). A field over a box of another size is ignored.

    ``sharp``: after the last vote, each hole pixel of a matched finest level is copied
    from the closest patch over it (``PatchLevel.copy_best``) instead of the patches' weighted
    mean. The fill keeps the footage's fine contrast and scores a little lower; it is the
    detail layer's source (``fill.detail``), while the evaluation's baseline stays voted.

    Falls back to Telea (``telea_frame``, field None) when no patch of known pixels fits
    in the frame (a frame smaller than a patch, or a hole that leaves no patch of known
    pixels). ``seed`` fixes the random field and search: the same inputs and seed give the
    same result. Raises ``ShapeError`` on a frame that is not float (H, W, 3), a hole that
    is not bool (H, W), an even or smaller than 3 ``patch``, or a negative ``levels``."""
    _check_frame(frame_linear, hole, patch)
    if levels is not None and (not isinstance(levels, (int, np.integer)) or levels < 0):
        raise ShapeError(f"levels must be None or an integer >= 0, got {levels!r}")
    if iterations is not None and (not isinstance(iterations, (int, np.integer)) or iterations < 1):
        raise ShapeError(f"iterations must be None or an integer >= 1, got {iterations!r}")
    frame = np.asarray(frame_linear, dtype=np.float32)
    if not hole.any():
        return frame.copy(), None
    half = patch // 2
    box = _hole_box(hole, patch)
    if not source_centres(hole[box[0]:box[1], box[2]:box[3]], half).any():
        box = (0, hole.shape[0], 0, hole.shape[1])  # the margin holds no known patch: use the frame
        if not source_centres(hole, half).any():
            return telea_frame(frame, hole), None
    y0, y1, x0, x1 = box
    sub_hole = hole[y0:y1, x0:x1]
    # nothing under the hole is read; a NaN among the known pixels would poison every distance
    image = np.where(sub_hole[..., None], 0.0, np.nan_to_num(encode(frame[y0:y1, x0:x1]))).astype(np.float32)
    rng = np.random.default_rng(seed)

    carried = init is not None and init.patch == patch and init.source.shape[:2] == sub_hole.shape
    rounds = EM_ITERATIONS if iterations is None else iterations
    finest_rounds = VIDEO_ITERATIONS if carried and iterations is None else rounds

    pyramid = _pyramid(image, sub_hole, _auto_levels(sub_hole, patch) if levels is None else levels, half)
    coarse_image, coarse_hole = pyramid[-1]
    start = with_texture(coarse_image, coarse_hole, patch)
    level = PatchLevel(telea_frame(start, coarse_hole), coarse_hole, half, rng)
    level.set_field(*level.random_sources(level.ty.size))
    if len(pyramid) == 1 and carried:
        level.refresh_distances()
        _offer_carried(level, init)
    level.rounds(finest_rounds if len(pyramid) == 1 else rounds, FIRST_PASSES)
    for depth in range(len(pyramid) - 2, -1, -1):
        fine_image, fine_hole = pyramid[depth]
        start = with_texture(fine_image, fine_hole, patch)
        up = cv2.resize(level.image, (2 * level.w, 2 * level.h), interpolation=cv2.INTER_LINEAR)
        start[fine_hole] = up[:fine_hole.shape[0], :fine_hole.shape[1]][fine_hole]
        fine = PatchLevel(start, fine_hole, half, rng)
        fine.search = FINE_SEARCH  # the doubled match is already close: search near it only
        _upsample_field(fine, level)
        if fine.ty.size > MATCH_TARGETS:
            fine.vote(weighted=False)
            count_finished(rounds)
        else:
            fine.refresh_distances()
            if depth == 0 and carried:
                _offer_carried(fine, init)
            fine.vote()
            fine.rounds(finest_rounds if depth == 0 else rounds)
        level = fine
    finest = level
    # a level too large to match has no distances to choose by; its doubled field is
    # coherent, so its vote mostly copies already
    if sharp and finest.ty.size <= MATCH_TARGETS:
        finest.refresh_distances()
        finest.copy_best()

    out = frame.copy()
    out[y0:y1, x0:x1][sub_hole] = decode(finest.image[..., :3][sub_hole])
    source = np.full(sub_hole.shape + (2,), -1, np.int32)
    source[finest.ty, finest.tx, 0] = finest.sy + y0
    source[finest.ty, finest.tx, 1] = finest.sx + x0
    return np.where(hole[..., None], out, frame), PatchField(box=box, source=source, patch=patch)


def patchmatch_video(frames_linear: np.ndarray, holes: np.ndarray, *, seed: int = 0) -> np.ndarray:
    """(F, H, W, 3) scene-linear float, bool (F, H, W) -> (F, H, W, 3) float32, known
    pixels the input's bit for bit: ``patchmatch_frame`` frame by frame, in order, all
    with ``seed`` (so identical frames get identical fills). A frame without a hole is
    passed through. For steadiness a frame whose hole box has the size of the previous
    hole's hands that frame's field on (``init``): its finest level starts from the
    matches that still fit, with ``VIDEO_ITERATIONS`` rounds there. Sequential, since each
    frame needs the previous one's field. Raises ``ShapeError`` unless frames are
    (F, H, W, 3) and holes bool (F, H, W)."""
    check_video(frames_linear, holes)
    frames = np.asarray(frames_linear, dtype=np.float32)
    out = frames.copy()
    field = None
    for t in range(frames.shape[0]):
        if not holes[t].any():
            continue  # the field of the last frame with a hole stays for the next one
        out[t], field = patchmatch_frame(frames[t], holes[t], seed=seed, init=field)
    return out
