"""Self-supervised extra holes for the ``standard`` preset (after Ouyang et al. 2021).

A *configuration* blanks, in every frame, the real hole plus a copy of it moved
next to it, over known pixels (for a hole that stays put, the held-out configuration's
copies stay put too). The blanked pixels are pre-filled
by flow-guided propagation exactly as the real hole is, so the network learns,
on this shot's own known pixels, how to correct propagation's mistakes. One
configuration is held out: on it we can measure, against pixels we know, whether
the trained network beats plain propagation and Telea, and keep whichever fill
is best (model selection on a known-pixel validation signal).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..callbacks import Callbacks
from ..colour import display_like
from ..errors import ShapeError
from ..fill.classical import border_diffusion, telea
from ..fill.detail import pair_sum
from ..fill.device import DevicePropagation
from ..fill.propagate import FLOW_PASSES, propagation_calls, seamed_propagation
from ..io.masks import depth_inside
from ..presets import Preset
from .steadiness import PlateMotion, held_out_flicker, plate_motion


# a pre-fill other than seamed propagation must beat it by this much on held-out pixels.
# Guarded propagation led by 18 % and 12 % on two panning drone shots and lost 1.7 and
# 0.7 dB in their real holes; where it was right by 3.8 dB (a hole on a moving cyclist),
# it led by 38 %. A fourth shot (led by 12 %, right by 1.7 dB) goes unserved: seamed
# propagation still beat flowprop and Telea there.
PREFILL_MARGIN = 0.25


@dataclass
class Configuration:
    """holes bool (F, H, W) = real hole | extra; prefill (F, H, W, 3) scene-linear with
    every hole pixel filled by propagation."""

    holes: np.ndarray
    prefill: np.ndarray
    motion: PlateMotion | None = None  # the held-out configuration's: how its fills' steadiness is judged

    def extra(self, real: np.ndarray) -> np.ndarray:
        """Pixels blanked here that are known in the plate (where the truth is known)."""
        return self.holes & ~real


def extra_holes(holes: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """bool (F, H, W) -> bool (F, H, W): for every frame, a copy of a hole moved next to
    the real hole (by about its own size, in a random direction), so the extra hole
    covers content like the real one's (the same object, the same background)."""
    if holes.ndim != 3:
        raise ShapeError(f"holes must be (F, H, W), got {holes.shape}")
    n, h, w = holes.shape
    present = [k for k in range(n) if holes[k].any()]
    out = np.zeros_like(holes)
    if not present:
        return out
    for i in range(n):
        src = i if holes[i].any() else present[int(np.argmin([abs(k - i) for k in present]))]
        ys, xs = np.nonzero(holes[src])
        bh, bw = ys.max() - ys.min() + 1, xs.max() - xs.min() + 1
        best, best_overlap = None, None
        for _ in range(8):
            angle = rng.uniform(0, 2 * np.pi)
            reach = rng.uniform(0.8, 1.3)
            dy, dx = int(round(np.sin(angle) * bh * reach)), int(round(np.cos(angle) * bw * reach))
            cand = np.roll(holes[src], (dy, dx), axis=(0, 1))
            overlap = float((cand & holes[i]).sum()) / max(float(cand.sum()), 1.0)
            if best is None or overlap < best_overlap:
                best, best_overlap = cand, overlap
            if overlap < 0.1:
                break
        out[i] = best
    return out


# a hole stays put where the pixels every frame's hole covers are at least this share of
# those any frame's covers: a fixed box (1.0), not a walker (a rig box that a tracker nudges
# by a few pixels still counts)
STAY_PUT = 0.9


def stays_put(holes: np.ndarray) -> bool:
    """True where bool (F, H, W) ``holes`` is the same region in every frame that has one
    (``STAY_PUT``); False for an empty one."""
    if holes.ndim != 3:
        raise ShapeError(f"holes must be (F, H, W), got {holes.shape}")
    present = holes[holes.any(axis=(1, 2))]
    if not len(present):
        return False
    return float(present.all(axis=0).sum()) >= STAY_PUT * float(present.any(axis=0).sum())


# the held-out copies of a hole that stays put are moved by this share of its size: the
# training crop holds half the hole's size on each side of it (``Preset.roi_margin``), so
# copies a quarter away leave a quarter of known pixels around them for the fills to start
# from, as the real hole has
COPY_SHIFT = 0.25


def judged_in_place(holes: np.ndarray, references: frozenset = frozenset()) -> bool:
    """Whether the check judges bool (F, H, W) ``holes`` on ``fixed_copies`` with the
    diffusion of its border as the smooth rival: it ``stays_put``, is not a ``thin_hole``
    (Telea competes there, docs/decisions/0034) and has no painted ``references`` (a
    painting is there to be carried to the other frames)."""
    return stays_put(holes) and not thin_hole(holes) and not references


def fixed_copies(holes: np.ndarray) -> np.ndarray:
    """bool (F, H, W) -> bool (F, H, W): the hole moved once for the whole shot by
    ``COPY_SHIFT`` of its bounding box's size to each side of itself (left, right, above,
    below) where the moved copy stays inside the frame; every frame gets the same copies of
    its own hole. For a hole that stays put: the pixels the copies blank beside it are never
    revealed either, as the real hole's are not (a copy moved anew every frame is shown by
    its neighbours). All False where no side has room."""
    if holes.ndim != 3:
        raise ShapeError(f"holes must be (F, H, W), got {holes.shape}")
    _, h, w = holes.shape
    out = np.zeros_like(holes)
    ys, xs = np.nonzero(holes.any(axis=0))
    if not len(ys):
        return out
    y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
    for dy, dx in ((0, -1), (0, 1), (-1, 0), (1, 0)):
        oy, ox = int(round(dy * (y1 - y0) * COPY_SHIFT)), int(round(dx * (x1 - x0) * COPY_SHIFT))
        if (oy or ox) and 0 <= y0 + oy and y1 + oy <= h and 0 <= x0 + ox and x1 + ox <= w:
            out |= np.roll(holes, (oy, ox), axis=(1, 2))
    return out & ~holes


def hole_sets(holes: np.ndarray, count: int, seed: int, put: bool = False) -> list[np.ndarray]:
    """``count`` unions of the real hole with extra holes, bool (F, H, W) each. ``put``: the
    real hole stays put (``stays_put``), and the last set, the held-out one, takes its
    ``fixed_copies`` where it has any."""
    rng = np.random.default_rng(seed + 7919)
    sets = [holes | extra_holes(holes, rng) for _ in range(count)]
    copies = fixed_copies(holes) if put and sets else None
    if copies is not None and copies.any():
        sets[-1] = holes | copies
    return sets


def held_out_error(frames_linear: np.ndarray, real: np.ndarray, union: np.ndarray, filled: np.ndarray) -> float:
    """Mean squared error, in ``display_like`` values, of ``filled`` on the pixels that
    ``union`` blanks but the plate knows."""
    region = union & ~real
    if not region.any():
        return 0.0
    return float(np.mean((display_like(filled[region]) - display_like(frames_linear[region])) ** 2))


# how much a fill's missing (or exaggerated) fine detail counts against it on held-out
# holes: its error is multiplied by 1 + DETAIL_WEIGHT * min(|1 - detail|, 1). Mean squared
# error alone prefers a smooth guess to a sharp one slightly misplaced; with this weight a
# smear (detail 0.3) loses to a fill of the footage's sharpness (0.9) unless the sharp one's
# error is more than 15 % (0.6 dB) higher.
DETAIL_WEIGHT = 0.25


def held_out_detail(frames_linear: np.ndarray, real: np.ndarray, union: np.ndarray, filled: np.ndarray) -> float:
    """Fine detail of ``filled`` on the held-out pixels (``union & ~real``) over the plate's
    there: the summed squared differences of ``display_like`` luma between horizontal and
    vertical neighbours that are both held out (as ``renderer evaluate``'s detail). 1.0 =
    as sharp as the footage; NaN where the footage is flat or no pair is held out."""
    region = union & ~real

    def energy(linear: np.ndarray) -> float:
        total = 0.0
        for t in np.flatnonzero(region.any(axis=(1, 2))):
            ys, xs = np.nonzero(region[t])
            y0, y1, x0, x1 = ys.min(), ys.max() + 1, xs.min(), xs.max() + 1
            total += float(pair_sum(linear[t, y0:y1, x0:x1], region[t, y0:y1, x0:x1])[0])
        return total

    truth = energy(frames_linear)
    return energy(filled) / truth if truth > 0.0 else float("nan")


# how much a fill's flicker on the held-out holes (``steadiness.held_out_flicker``, a squared
# display difference per pixel as the error is) adds to its error. At 1 the two count alike,
# as a viewer sees a wrong pixel and a jump alike; on 18 thumbnails, a 768x576 people plate
# over four seeds, a 1280x720 rig box and a 2K drone no choice moved (docs/decisions/0048)
STEADINESS_WEIGHT = 1.0


def viewer_error(mse: float, detail: float) -> float:
    """A held-out error that sees what a viewer sees: ``mse`` raised by ``DETAIL_WEIGHT``
    per unit of detail missing or exaggerated (``held_out_detail``; NaN detail: ``mse``)."""
    if not np.isfinite(detail):
        return mse
    return mse * (1.0 + DETAIL_WEIGHT * min(abs(1.0 - detail), 1.0))


def held_out_score(frames_linear: np.ndarray, real: np.ndarray, union: np.ndarray, filled: np.ndarray,
                   motion: PlateMotion | None = None) -> float:
    """``viewer_error`` of ``filled`` on the held-out pixels: how fills are compared. With the
    plate's ``motion``, the fill's flicker there (``steadiness.held_out_flicker``) is added
    to its error, times ``STEADINESS_WEIGHT``."""
    error = held_out_error(frames_linear, real, union, filled)
    if motion is not None and STEADINESS_WEIGHT > 0:
        error += STEADINESS_WEIGHT * held_out_flicker(union & ~real, filled, motion)
    return viewer_error(error, held_out_detail(frames_linear, real, union, filled))


def choose_fill(frames_linear: np.ndarray, holes: np.ndarray, held_out: np.ndarray, fills: dict, log=None,
                margin: float = 0.0, made: dict | None = None, motion: PlateMotion | None = None):
    """Run each pre-fill on the held-out holes (``made``: fills of them already made, by
    name). The first of ``fills`` is the default; another replaces it only if its error
    is below the default's by the fraction ``margin``. Fills are compared by
    ``held_out_score`` (error and detail, and flicker along the plate's ``motion``).
    Returns (name of the choice, its fill of ``held_out``, every fill's held-out score)."""
    made = made or {}
    filled = {name: made[name] if name in made else fn(frames_linear, held_out) for name, fn in fills.items()}
    errors = {name: held_out_score(frames_linear, holes, held_out, f, motion) for name, f in filled.items()}
    name = default = next(iter(errors))
    rival = min(errors, key=errors.get)
    if rival != default and errors[rival] <= errors[default] * (1.0 - margin):
        name = rival
    if log:
        log("pre-fill check on held-out holes ((MSE + flicker) x detail penalty): "
            + ", ".join(f"{k} {v:.5f}" for k, v in errors.items()) + f"; pre-fill: {name}")
    return name, filled[name], errors


def baseline_fills(context=None, device=None, references: frozenset = frozenset(), still: bool = True,
                   kept: dict | None = None, passes: int = FLOW_PASSES) -> dict:
    """The non-learning fills the standard preset starts from and measures itself against:
    flow-guided propagation with still chains snapped, seams matched and the unmoved copy
    where the background is still (``fill.propagate.seamed_propagation``, the default), its
    guarded variant (``guarded_propagation``), both without that copy where ``still=False``,
    Telea, and each frame's hole diffused from its border (``fill.classical.border_diffusion``).
    With a ``region.Context`` they take the training crop but look at the wider box.
    With a CUDA ``device`` the propagation runs there (``fill.device``), and fills several
    hole sets in one batch (see ``fill_sets``); fills made with one ``kept`` dict share
    their DIS flows. ``references``: the indices of frames whose hole the artist painted;
    on the CPU the propagations bring what they carry from them to each frame's light
    (``fill.propagate``). ``passes``: the propagations' passes along the flow
    (``fill.propagate.seamed_propagation``)."""
    if device is not None and str(device).startswith("cuda"):
        kept = {} if kept is None else kept  # their DIS flows, shared while this set of fills lives
        seamed = DevicePropagation(device, kept=kept, still=still, passes=passes)
        guarded = DevicePropagation(device, True, kept=kept, still=still, passes=passes)
    else:
        def seamed(f, h):
            return seamed_propagation(f, h, references=references, still=still, passes=passes)

        def guarded(f, h):
            return seamed_propagation(f, h, guarded=True, references=references, still=still, passes=passes)

    fills = {"propagation": seamed, "guarded": guarded, "telea": lambda f, h: telea(np.maximum(f, 0.0), h),
             "diffusion": border_diffusion}
    return fills if context is None else {name: context.wrap(fn) for name, fn in fills.items()}


def fill_sets(fill, frames: np.ndarray, hole_sets: list[np.ndarray]) -> list[np.ndarray]:
    """``[fill(frames, h) for h in hole_sets]``, in one batch where the fill has one (``.sets``)."""
    batched = getattr(fill, "sets", None)
    return batched(frames, hole_sets) if batched is not None else [fill(frames, h) for h in hole_sets]


# px: a hole with no pixel farther than this from its rim (a dust spot, a wire) is filled
# from that rim as well as from any other frame, so Telea stays a pre-fill candidate there
# even where other frames show it (docs/decisions/0034). On a 3x3 dust spot over a moving
# camera the check chose Telea with a 6-fold lead on the held-out holes (0.00013 against
# 0.00079), and without it the shot lost 4.9 dB.
THIN_HOLE_DEPTH = 4.0


def thin_hole(holes: np.ndarray) -> bool:
    """True where every hole of bool (F, H, W) ``holes`` lies within ``THIN_HOLE_DEPTH`` px
    (Euclidean) of a pixel outside it, in every frame; False for an empty one."""
    if holes.ndim != 3:
        raise ShapeError(f"holes must be (F, H, W), got {holes.shape}")
    present = [h for h in holes if h.any()]
    if not present:
        return False
    return all(depth_inside(h).max() <= THIN_HOLE_DEPTH for h in present)


def prefill_calls(preset: Preset, n_frames: int, smooth_rival: bool = True) -> int:
    """Per-frame calls ``input_configurations`` makes on the CPU when it keeps seamed
    propagation, the usual choice: every fill of the held-out holes (the two propagations
    and, with ``smooth_rival``, Telea), then propagation on each other hole set, the real
    hole's with the unmoved copy's test (``fill.still``, a call a frame, in each of the
    ``FLOW_PASSES``). Where another fill is kept the stage makes fewer, and its progress
    ends with a jump."""
    if preset.input_mode != "masked" or not preset.propagation_prior:
        return 0
    count = preset.extra_hole_configs + int(preset.select_on_validation)
    return (count + 1) * propagation_calls(n_frames, passes=1) + propagation_calls(n_frames) \
        + (n_frames if smooth_rival else 0) + FLOW_PASSES * n_frames


def input_configurations(frames: np.ndarray, holes: np.ndarray, preset: Preset, seed: int, cb: Callbacks,
                         context=None, device=None, references: frozenset = frozenset(), smooth_rival: bool = True):
    """Input configurations for the masked input: the real hole first, then the
    training ones with extra holes, then (if selecting) the held-out one. With a
    propagation prior, the pre-fill is seamed propagation unless guarded propagation or
    the smooth rival beats it by ``PREFILL_MARGIN`` on the held-out holes (where a hole sits
    on a moving subject, propagation drags the background in; but the held-out holes lie
    beside the real one, and a small lead there did not carry over to it). The smooth
    rival is Telea, or for a hole ``judged_in_place`` the diffusion of its border, judged
    on the hole's ``fixed_copies``. Without ``smooth_rival`` it is not a candidate: where other frames
    show the hole, a per-frame guess does not replace what they show
    (docs/decisions/0032). ``context``:
    see ``baseline_fills``; so is ``device``.
    Returns (configurations, the baselines' held-out errors, the pre-fill's name)."""
    if preset.input_mode != "masked":
        return None, {}, None
    count = preset.extra_hole_configs + int(preset.select_on_validation)
    put = judged_in_place(holes, references)
    unions = hole_sets(holes, count, seed, put=put and preset.select_on_validation)
    if not preset.propagation_prior or not unions:
        def blank(f, h):
            return np.where(h[..., None], 0.0, f).astype(np.float32)

        return [Configuration(holes=h, prefill=blank(frames, h)) for h in [holes] + unions], {}, None
    # the unmoved copy (``fill.still``) is for the real hole alone: the check's extra holes
    # move where a real fixed hole does not, so other frames show what they cover and the
    # copy would be credited there with what the real hole never gets (on a fixed box over
    # bikes@140 propagation's held-out score fell from 0.01311 to 0.00989 with it). So is
    # the second pass along the flow: measured on the fill of holes that jump every frame,
    # the flow misleads it (on the 768x576 people plate propagation's held-out score rose
    # from 0.01353 to 0.01713 with it, where it gains in the real hole; decision 0040)
    kept: dict = {}
    fills = baseline_fills(context, device, references, still=False, kept=kept, passes=1)
    # the smooth rival of a hole that stays put is its border's diffusion, what the pixels no
    # chain reaches get: on its fixed copies the check sees whether the chains bring in
    # more than that (docs/decisions/0062); elsewhere it is Telea
    del fills["telea" if put else "diffusion"]
    if not smooth_rival:
        del fills["diffusion" if put else "telea"]
    sets = [holes] + unions[:-1]
    default = next(iter(fills))
    ahead, made = None, {}
    if hasattr(fills[default], "sets"):  # batched: the default fill of every set at once, the held-out one too
        *ahead, made[default] = fill_sets(fills[default], frames, sets[1:] + [unions[-1]])
    motion = plate_motion(frames, holes) if STEADINESS_WEIGHT > 0 else None
    name, held_out_fill, errors = choose_fill(frames, holes, unions[-1], fills, log=cb.log, margin=PREFILL_MARGIN,
                                              made=made, motion=motion)
    real = baseline_fills(context, device, references, kept=kept)[name](frames, holes)
    prefills = [real] + (ahead if ahead is not None and name == default else fill_sets(fills[name], frames, sets[1:]))
    configs = [Configuration(holes=h, prefill=p) for h, p in zip(sets, prefills)]
    configs.append(Configuration(holes=unions[-1], prefill=held_out_fill, motion=motion))
    return configs, errors, name
