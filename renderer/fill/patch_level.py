"""One pyramid level of the exemplar-based completion (``fill.patchmatch``): the patch
geometry of a box around a hole, Newson et al.'s texture features, and ``PatchLevel``,
which holds a level's image and its nearest-neighbour field and runs PatchMatch, Wexler's
vote and the sharp copy on it.

Images here are the box's ACEScct values (h, w, C), holes bool (h, w), True = being
synthesised; a patch is (2 half + 1) pixels square and is named by its centre. Every
operation is vectorised over the level's target patches.
"""

from __future__ import annotations

import cv2
import numpy as np

from ..parallel import count_finished

JUMPS = (4, 1)  # px: propagation looks this far along each direction (jump flooding); (8, 4, 2, 1): no better, slower
CONVERGED = 1e-3  # mean |change| of the hole in ACEScct (a quarter of an 8-bit step): stop the rounds
WEIGHT_PERCENTILE = 75  # Newson's sigma^2: this percentile of the patch distances
WEIGHT_FLOOR = 1e-6  # every patch keeps a little weight, so no hole pixel is left without a vote
TEXTURE_WEIGHT = 50.0  # Newson's lambda: the texture features' weight against the colour in a distance
LUMA = np.array([0.2126, 0.7152, 0.0722], np.float32)  # Rec.709 weights, for the texture features


# ---------------------------------------------------------------- geometry and features
def inner_centres(shape: tuple[int, int], half: int) -> np.ndarray:
    """bool (h, w): the centres whose patch lies inside the image."""
    inside = np.zeros(shape, bool)
    inside[half:shape[0] - half, half:shape[1] - half] = True
    return inside


def source_centres(hole: np.ndarray, half: int) -> np.ndarray:
    """bool (h, w): the centres whose patch lies inside the image and holds no hole pixel."""
    known = (~hole).astype(np.uint8)
    kernel = np.ones((2 * half + 1, 2 * half + 1), np.uint8)
    full = cv2.erode(known, kernel, borderType=cv2.BORDER_CONSTANT, borderValue=0).astype(bool)
    return full & inner_centres(hole.shape, half)


def target_centres(hole: np.ndarray, half: int) -> np.ndarray:
    """bool (h, w): the centres inside the image whose patch overlaps the hole. Every hole
    pixel lies in at least one of them when the image is at least one patch wide."""
    kernel = np.ones((2 * half + 1, 2 * half + 1), np.uint8)
    return cv2.dilate(hole.astype(np.uint8), kernel).astype(bool) & inner_centres(hole.shape, half)


def downsample(image: np.ndarray, hole: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def hole_width(hole: np.ndarray) -> float:
    """Twice the largest distance from a hole pixel to a known pixel: how wide the hole is."""
    dist = cv2.distanceTransform(np.pad(hole, 1).astype(np.uint8), cv2.DIST_L2, 3)
    return 2.0 * float(dist.max())


def with_texture(image: np.ndarray, hole: np.ndarray, patch: int) -> np.ndarray:
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


# ---------------------------------------------------------------- one level
class PatchLevel:
    """One pyramid level of the box: the current image (hole pixels being synthesised),
    the patch geometry, and the nearest-neighbour field of its target patches."""

    def __init__(self, image: np.ndarray, hole: np.ndarray, half: int, rng: np.random.Generator):
        self.image = image
        self.half = half
        self.rng = rng
        self.h, self.w = hole.shape
        self.valid = source_centres(hole, half)
        self.valid_list = np.flatnonzero(self.valid)
        self.ty, self.tx = np.nonzero(target_centres(hole, half))
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
