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
frames in order, each frame's finest level offered the previous frame's matches.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ..colour import decode, encode
from ..errors import ShapeError
from ..parallel import count_finished
from .classical import check_video, telea_frame

PATCH = 7  # px, odd: 7x7 (Newson's size) holds a texture's structure and is cheap to compare
MARGIN_PATCHES = 3  # the box around the hole grows by at least this many patches (and by the hole's size)
COARSEST_HOLE_PATCHES = 2  # the pyramid stops where the hole is about this many patches wide
MIN_LEVEL_PATCHES = 3  # a coarser level needs a box at least this many patches high and wide
EM_ITERATIONS = 4  # match-and-vote rounds per pyramid level
VIDEO_ITERATIONS = 2  # rounds on a frame that starts from the previous frame's field
FIRST_PASSES = 3  # PatchMatch passes of the first round on the coarsest level (the field starts random)
JUMPS = (4, 1)  # px: propagation looks this far along each direction (jump flooding); (8, 4, 2, 1): no better, slower
FINE_SEARCH = 16  # px: random search radius below the coarsest level (whole box there: no better, slower)
CONVERGED = 1e-3  # mean |change| of the hole in ACEScct (a quarter of an 8-bit step): stop the rounds
WEIGHT_PERCENTILE = 75  # Newson's sigma^2: this percentile of the patch distances
WEIGHT_FLOOR = 1e-6  # every patch keeps a little weight, so no hole pixel is left without a vote
TEXTURE_WEIGHT = 50.0  # Newson's lambda: the texture features' weight against the colour in a distance
# target patches on a level above which it is not matched, only voted from the coarser
# level's doubled matches (uniform weights): the doubled field already places the
# texture, and the vote copies the plate's own pixels, so the detail stays at plate
# resolution. On a third of a 2048x1080 frame of the city clip (744k hole pixels), the
# detail layer's fine energy over the truth's went from 1.05 to 1.00, its time from 29.5
# to 7.5 s and its peak memory from 2.6 to 1.0 GiB; a third of 4096x2160 takes 16 s.
MATCH_TARGETS = 1 << 19
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Rec.709 weights, for the texture features


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


def _interior(shape: tuple[int, int], half: int) -> np.ndarray:
    """bool (h, w): the centres whose patch lies inside the image."""
    inside = np.zeros(shape, bool)
    inside[half:shape[0] - half, half:shape[1] - half] = True
    return inside


def _sources(hole: np.ndarray, half: int) -> np.ndarray:
    """bool (h, w): the centres whose patch lies inside the image and holds no hole pixel."""
    known = (~hole).astype(np.uint8)
    kernel = np.ones((2 * half + 1, 2 * half + 1), np.uint8)
    full = cv2.erode(known, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
    return full & _interior(hole.shape, half)


def _targets(hole: np.ndarray, half: int) -> np.ndarray:
    """bool (h, w): the centres inside the image whose patch overlaps the hole. Every hole
    pixel lies in at least one of them when the image is at least one patch wide."""
    kernel = np.ones((2 * half + 1, 2 * half + 1), np.uint8)
    return cv2.dilate(hole.astype(np.uint8), kernel).astype(bool) & _interior(hole.shape, half)


def _downsample(image: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Halve (h, w, C) and its hole: a coarse pixel is the mean of the known pixels of its
    2x2 block, and is in the hole if any of the four is (so no hole content leaks in)."""
    h, w = hole.shape
    ph, pw = h % 2, w % 2
    image = np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="edge")
    hole = np.pad(hole, ((0, ph), (0, pw)), mode="edge")
    h2, w2 = hole.shape[0] // 2, hole.shape[1] // 2
    known = (~hole).astype(np.float32)
    count = known.reshape(h2, 2, w2, 2).sum(axis=(1, 3))
    total = (image * known[..., None]).reshape(h2, 2, w2, 2, image.shape[-1]).sum(axis=(1, 3))
    coarse = (total / np.maximum(count, 1.0)[..., None]).astype(np.float32)
    return coarse, hole.reshape(h2, 2, w2, 2).any(axis=(1, 3))


def _hole_width(hole: np.ndarray) -> float:
    """Twice the largest distance from a hole pixel to a known pixel: how wide the hole is."""
    dist = cv2.distanceTransform(np.pad(hole, 1).astype(np.uint8), cv2.DIST_L2, 3)
    return 2.0 * float(dist.max())


def _with_texture(image: np.ndarray, hole: np.ndarray, patch: int) -> np.ndarray:
    """(h, w, 3) ACEScct -> (h, w, 5): the colour and Newson et al.'s texture features, the
    absolute horizontal and vertical differences of the luma averaged over a patch-sized
    window, scaled by sqrt(``TEXTURE_WEIGHT``). Only pairs of known pixels count; the hole's
    features are 0 here and are synthesised along with its colour."""
    luma = image @ LUMA
    known = ~hole
    feats = []
    for axis in (1, 0):
        diff = np.abs(np.diff(luma, axis=axis))
        pair = known[:, 1:] & known[:, :-1] if axis == 1 else known[1:] & known[:-1]
        pad = ((0, 0), (0, 1)) if axis == 1 else ((0, 1), (0, 0))
        diff = np.pad(np.where(pair, diff, 0.0), pad).astype(np.float32)
        count = np.pad(pair, pad).astype(np.float32)
        total = cv2.boxFilter(diff, -1, (patch, patch), normalize=False, borderType=cv2.BORDER_CONSTANT)
        number = cv2.boxFilter(count, -1, (patch, patch), normalize=False, borderType=cv2.BORDER_CONSTANT)
        feats.append(np.where(known & (number > 0), total / np.maximum(number, 1.0), 0.0))
    texture = np.sqrt(TEXTURE_WEIGHT) * np.stack(feats, axis=-1)
    return np.concatenate([image, texture.astype(np.float32)], axis=-1)


# ---------------------------------------------------------------- one pyramid level
class _Level:
    """One pyramid level of the box: the current image (hole pixels being synthesised),
    the patch geometry, and the nearest-neighbour field of its target patches."""

    def __init__(self, image: np.ndarray, hole: np.ndarray, half: int, rng: np.random.Generator):
        self.image = image
        self.half = half
        self.rng = rng
        self.h, self.w = hole.shape
        self.valid = _sources(hole, half)
        self.valid_list = np.flatnonzero(self.valid)
        self.ty, self.tx = np.nonzero(_targets(hole, half))
        self.hy, self.hx = np.nonzero(hole)
        dy, dx = np.mgrid[-half:half + 1, -half:half + 1]
        self.oy, self.ox = dy.ravel(), dx.ravel()
        self.offsets = (dy * self.w + dx).ravel()
        self.sy = np.empty(0, np.int64)
        self.sx = np.empty(0, np.int64)
        self.dist = np.empty(0, np.float32)
        self.search = None  # the random search's first radius; None: the box's larger side

    # -- the field
    def random_sources(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        pick = self.valid_list[self.rng.integers(0, self.valid_list.size, count)]
        return pick // self.w, pick % self.w

    def set_field(self, sy: np.ndarray, sx: np.ndarray) -> None:
        """Take (sy, sx) per target, replacing the ones that are not valid sources by random ones."""
        sy, sx = sy.astype(np.int64), sx.astype(np.int64)
        ok = (sy >= 0) & (sy < self.h) & (sx >= 0) & (sx < self.w)
        ok[ok] = self.valid[sy[ok], sx[ok]]
        ry, rx = self.random_sources(int((~ok).sum()))
        sy[~ok], sx[~ok] = ry, rx
        self.sy, self.sx = sy, sx

    def grid(self) -> tuple[np.ndarray, np.ndarray]:
        """The field as two (h, w) arrays, -1 where a centre is not a target."""
        gy = np.full((self.h, self.w), -1, np.int64)
        gx = np.full((self.h, self.w), -1, np.int64)
        gy[self.ty, self.tx] = self.sy
        gx[self.ty, self.tx] = self.sx
        return gy, gx

    # -- distances
    def load_targets(self) -> None:
        """Gather the target patches of the current image, per channel (n, patch^2)."""
        self.channels = [np.ascontiguousarray(self.image[..., c]).ravel() for c in range(self.image.shape[-1])]
        idx = (self.ty * self.w + self.tx)[:, None] + self.offsets[None, :]
        self.target_patches = [np.take(ch, idx) for ch in self.channels]

    def distance(self, rows: np.ndarray, sy: np.ndarray, sx: np.ndarray) -> np.ndarray:
        """Mean squared difference (over the patch and the channels) between the target
        patches ``rows`` and the source patches centred at (sy, sx)."""
        idx = (sy * self.w + sx)[:, None] + self.offsets[None, :]
        total = np.zeros(rows.size, np.float32)
        for ch, tp in zip(self.channels, self.target_patches):
            diff = np.take(ch, idx)
            diff -= tp[rows]
            total += np.einsum("ij,ij->i", diff, diff)
        return total / np.float32(len(self.channels) * self.offsets.size)

    def refresh_distances(self) -> None:
        self.load_targets()
        self.dist = self.distance(np.arange(self.ty.size), self.sy, self.sx)

    def _try(self, rows: np.ndarray, cy: np.ndarray, cx: np.ndarray) -> None:
        """Keep the candidates (cy, cx) for targets ``rows`` that are valid and closer."""
        ok = (cy >= self.half) & (cy < self.h - self.half) & (cx >= self.half) & (cx < self.w - self.half)
        rows, cy, cx = rows[ok], cy[ok], cx[ok]
        ok = self.valid[cy, cx] & ((cy != self.sy[rows]) | (cx != self.sx[rows]))
        rows, cy, cx = rows[ok], cy[ok], cx[ok]
        if rows.size == 0:
            return
        d = self.distance(rows, cy, cx)
        better = d < self.dist[rows]
        rows = rows[better]
        self.sy[rows], self.sx[rows], self.dist[rows] = cy[better], cx[better], d[better]

    # -- PatchMatch
    def patchmatch(self, passes: int) -> None:
        """``passes`` rounds of propagation (every jump length, four directions, each for all
        targets at once) and random search (radius halving from ``search``, or the box size,
        to 1 px)."""
        rows = np.arange(self.ty.size)
        for _ in range(passes):
            for jump in JUMPS:
                for dy, dx in ((0, jump), (jump, 0), (0, -jump), (-jump, 0)):
                    gy, gx = self.grid()
                    ny, nx = self.ty - dy, self.tx - dx  # the neighbour whose match is shifted over
                    inside = (ny >= 0) & (ny < self.h) & (nx >= 0) & (nx < self.w)
                    r, ny, nx = rows[inside], ny[inside], nx[inside]
                    my = gy[ny, nx]
                    keep = my >= 0
                    self._try(r[keep], my[keep] + dy, gx[ny, nx][keep] + dx)
            radius = max(self.h, self.w) if self.search is None else self.search
            while radius >= 1:
                cy = self.sy + self.rng.integers(-radius, radius + 1, rows.size)
                cx = self.sx + self.rng.integers(-radius, radius + 1, rows.size)
                self._try(rows, cy, cx)
                radius //= 2

    # -- voting
    def _covering(self, per_target: np.ndarray, missing: float):
        """For each offset in the patch, one step of a generator: (n_hole,) the value of
        ``per_target`` (n_targets,) for the target patch that holds each hole pixel at that
        offset (``missing`` where that patch is not a target), and (n_hole, C) the pixel it
        copies there, from the image as it stands."""
        half = self.half
        pw = self.w + 2 * half
        grid = np.full((self.h + 2 * half) * pw, missing, np.float32)  # padded, so every lookup is in range
        sgrid = np.full(grid.size, half * self.w + half, np.int64)  # any in-range centre, never taken
        centre = (self.ty + half) * pw + (self.tx + half)
        grid[centre] = per_target
        sgrid[centre] = self.sy * self.w + self.sx
        flat = self.image.reshape(-1, self.image.shape[-1])
        here = (self.hy + half) * pw + (self.hx + half)
        for oy, ox, off in zip(self.oy, self.ox, self.offsets):
            c = here - (oy * pw + ox)  # the patch centred there holds this pixel at offset (oy, ox)
            yield grid[c], np.take(flat, sgrid[c] + off, axis=0)

    def vote(self, weighted: bool = True) -> float:
        """Wexler voting: every hole pixel becomes the weighted mean of the pixels the
        target patches over it copy, with weights exp(-d / (2 sigma^2)), d a patch's mean
        squared difference and sigma^2 the ``WEIGHT_PERCENTILE``th percentile of d
        (Newson et al.); uniform weights if not ``weighted``. Returns the mean |change| of
        the hole's colour."""
        if weighted and self.dist.size:
            sigma2 = float(np.percentile(self.dist, WEIGHT_PERCENTILE))
            weight = np.exp(-self.dist / (2.0 * sigma2)) if sigma2 > 0 else np.ones_like(self.dist)
            weight = np.maximum(weight, WEIGHT_FLOOR).astype(np.float32)
        else:
            weight = np.ones(self.ty.size, np.float32)
        acc = np.zeros((self.hy.size, self.image.shape[-1]), np.float32)
        wsum = np.zeros(self.hy.size, np.float32)
        for wt, copied in self._covering(weight, 0.0):
            acc += wt[:, None] * copied
            wsum += wt
        new = acc / wsum[:, None]
        old = self.image[self.hy, self.hx]
        self.image[self.hy, self.hx] = new
        return float(np.abs(new[:, :3] - old[:, :3]).mean()) if new.size else 0.0

    def copy_best(self) -> None:
        """Every hole pixel takes the value that the closest of the target patches over it
        (the smallest distance, as last refreshed) copies there: one patch's pixel, not a
        mean of several, so the texture keeps the fine contrast voting averages away."""
        best = np.full(self.hy.size, np.inf, np.float32)
        new = self.image[self.hy, self.hx]
        for d, copied in self._covering(self.dist, np.inf):
            take = d < best
            best[take] = d[take]
            new[take] = copied[take]
        self.image[self.hy, self.hx] = new

    def rounds(self, iterations: int, first_passes: int = 1) -> None:
        """Alternate PatchMatch and voting ``iterations`` times (fewer once converged)."""
        for i in range(iterations):
            self.refresh_distances()
            self.patchmatch(first_passes if i == 0 else 1)
            count_finished()
            if self.vote() < CONVERGED:
                break


# ---------------------------------------------------------------- the frame
def _auto_levels(hole: np.ndarray, patch: int) -> int:
    """Coarser levels until the hole is about ``COARSEST_HOLE_PATCHES`` patches wide."""
    width, levels = _hole_width(hole), 0
    while width / 2 ** levels > COARSEST_HOLE_PATCHES * patch:
        levels += 1
    return levels


def _pyramid(image: np.ndarray, hole: np.ndarray, levels: int, half: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """[(image, hole)] finest first; a coarser level is added only if its box is at least
    ``MIN_LEVEL_PATCHES`` patches high and wide and it still has known patches to copy."""
    pyramid = [(image, hole)]
    for _ in range(levels):
        coarse, coarse_hole = _downsample(*pyramid[-1])
        if min(coarse_hole.shape) < MIN_LEVEL_PATCHES * (2 * half + 1) or not _sources(coarse_hole, half).any():
            break
        pyramid.append((coarse, coarse_hole))
    return pyramid


def _offer_carried(level: _Level, init: PatchField) -> int:
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


def _upsample_field(fine: _Level, coarse: _Level) -> None:
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
    from the closest patch over it (``_Level.copy_best``) instead of the patches' weighted
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
    if not _sources(hole[box[0]:box[1], box[2]:box[3]], half).any():
        box = (0, hole.shape[0], 0, hole.shape[1])  # the margin holds no known patch: use the frame
        if not _sources(hole, half).any():
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
    start = _with_texture(coarse_image, coarse_hole, patch)
    level = _Level(telea_frame(start, coarse_hole), coarse_hole, half, rng)
    level.set_field(*level.random_sources(level.ty.size))
    if len(pyramid) == 1 and carried:
        level.refresh_distances()
        _offer_carried(level, init)
    level.rounds(finest_rounds if len(pyramid) == 1 else rounds, FIRST_PASSES)
    for depth in range(len(pyramid) - 2, -1, -1):
        fine_image, fine_hole = pyramid[depth]
        start = _with_texture(fine_image, fine_hole, patch)
        up = cv2.resize(level.image, (2 * level.w, 2 * level.h), interpolation=cv2.INTER_LINEAR)
        start[fine_hole] = up[:fine_hole.shape[0], :fine_hole.shape[1]][fine_hole]
        fine = _Level(start, fine_hole, half, rng)
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
