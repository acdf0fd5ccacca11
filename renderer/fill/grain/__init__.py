"""Grain, matched: measure a plate's grain, take it out for the fills, put fresh grain back.

A fill made by diffusion, Telea or a network is clean; a clean patch in a grainy plate
shows at once. The VFX practice is "degrain, fill, regrain", and this package gives its
three parts on scene-linear float32 frames (the model in ``model``, the estimate in
``estimate``, degrain and regrain in ``transfer``):

- ``estimate_grain(frames_linear, known) -> GrainModel``: the grain of the shot itself.
- ``degrain(frames_linear, model, holes)``: a denoised plate, only for the fills to read.
- ``regrain(fill_linear, where, model, seed, frame_number)``: fresh grain added to
  ``where`` only (``synthesize_grain`` makes it).

**Space.** Everything is measured and added in the encoded space, ACEScct
(``renderer.colour.linear_to_acescct``: the curve of ``encode`` without its [0, 1] clip,
so a round trip keeps highlights). Film grain is roughly constant in log exposure, which
is nearly constant there; a digital sensor's noise (roughly sqrt(signal) in linear)
falls with brightness there. The model holds a table, so it covers both.

**The model.** Per channel: the grain's standard deviation (encoded units) at a few
brightness levels (encoded), interpolated piecewise-linearly between them (monotone
between two levels, no overshoot) and held flat beyond the first and last; and the
grain's size, the sigma (px) of the Gaussian that, applied to white noise, gives noise
with the same correlation between neighbouring pixels as the plate's grain.

**How it is estimated.** From a few frames spread over the shot, each with its next
frame (at most ``max_samples`` pixels read in all), in the encoded space, per channel:

1. Two high-pass responses of the plate, both blind to flat, linear and bilinear
   shading: ``r1`` the 3x3 mask [1 -2 1] x [1 -2 1] (Immerkaer's noise estimator) and
   ``r2`` the same mask spread to a 5x5 (lag 2 px).
2. The frame is cut into 16x16 blocks. A block counts when every pixel it and its
   filters read is known (``known`` eroded by ``MARGIN`` = 10 px, frame borders left out).
   Its brightness is the mean of the plate blurred with sigma 3 px; its structure the
   mean curvature (fxx^2 + 2 fxy^2 + fyy^2) of that blur (texture and edges raise it,
   grain barely does, ramps not at all); its change the mean squared difference between
   that blur and the next frame's (motion raises it).
3. Blocks are binned by brightness (bins 0.05 wide). In each bin with at least
   ``MIN_BLOCKS`` blocks, two readings, each over a quarter of the bin's blocks
   (``MIN_BLOCKS`` at least), each the standard deviations of the responses read
   robustly as median(|r|) / 0.6745, so the texture left in a few pixels does not count:
   *spatial*, r1 and r2 over the flattest blocks (lowest structure); *temporal*, the
   frame-to-frame differences (r1 - r1') / sqrt 2 and (r2 - r2') / sqrt 2 over the
   stillest blocks (lowest change): grain is fresh every frame and a still scene's texture
   cancels, so a locked-off textured plate reads right. Texture and motion only add
   energy, so the bin keeps the lower of the two.
4. Size: for Gaussian-filtered white noise of sigma s, the variance ratio r1 / r2 is a
   known, decreasing function of s (1 for white noise); the ratio measured (pooled over
   the bins, weighted by blocks) is inverted on a table of s from 0 to ``MAX_SIZE`` px.
   A bin whose ratio is below that of grain of ``MAX_SIZE`` holds smooth texture, not
   grain, and is dropped (a clean plate with soft texture reads clean, not as big grain).
5. Std: the r1 response of unit grain of that size is known, so each bin's std is
   sd(r1) / sd(r1 of unit grain). The table's levels are the bins measured, at the mean
   brightness of their blocks; a channel not measured at a level is interpolated there.

Measured (``docs/grain.md``): on synthetic grain of known std and size over smooth,
textured, finely textured (still) or moving textured pictures, the std at each pixel's
brightness within 5 % (median) and size within 3 %; on a real clip with film-like grain
added, std within 1.3 % (median; 4 % at the 90th percentile) and size 0.79 px for 0.8.
A 48-frame 1280x720 shot takes 0.3 to 1.0 s on 2 shared cores.

**How it is synthesised.** White Gaussian noise, filtered per channel by that channel's
Gaussian, scaled to unit variance, times the table's std at each pixel's own brightness;
added in the encoded space, a fresh pattern per frame from ``(seed, frame_number)``.

**Limits: what the model cannot represent.**
- Grain correlated across channels (real film grain and demosaiced sensor noise often
  are): the synthetic grain is independent per channel, so luma grain is somewhat weaker
  than the plate's when the plate's channels move together.
- Structured grain: film grain's clumps and non-Gaussian shape, fixed-pattern noise,
  banding, compression blocking and ringing (measured as if they were grain, of the
  wrong look), and noise that a codec has smoothed away in flat areas but kept in
  texture (then flat blocks read as cleaner than the plate).
- Grain that varies across the frame (vignetting-dependent noise, windows of other
  footage, different stocks comped together): one table per shot, by brightness only.
- Grain that changes over the shot (a push in exposure, a stock change mid-shot).
- Very large grain: above about 2 px sigma the high-pass responses hardly see it and it
  is hard to tell from soft texture (on textured pictures the std then reads high); grain
  beyond ``MAX_SIZE`` (3 px) reads as texture, i.e. not at all. Sizes below about 0.4 px
  read as white noise (0 to 0.4), which looks the same.
- Texture as fine as the grain, moving, with no flat area at some brightness (foliage,
  gravel, fabric at a distance, in every block of that level) reads as grain: the std
  there reads high (still texture is fine: the temporal reading cancels it). A level with
  too few known blocks is missing from the table and its neighbours' values are used.
- A codec's own noise and blocking are part of the plate and are measured with the
  grain (a clean 8-bit clip reads 0.0001 to 0.003 here; added grain reads about that much
  high, in quadrature).
- Clipped areas and areas a codec has flattened to one 8-bit code read as clean at their
  level.
"""

from .estimate import estimate_grain
from .model import GrainModel
from .transfer import degrain, regrain, synthesize_grain

__all__ = ["GrainModel", "degrain", "estimate_grain", "regrain", "synthesize_grain"]
