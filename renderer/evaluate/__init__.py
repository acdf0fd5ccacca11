"""Evaluation harness: metrics, baselines, synthetic mattes, clip loading, the runner,
the report, and the ``renderer evaluate`` command.

Modules (import what you need; nothing heavy is imported here):

* ``metrics``   hole PSNR, hole-box SSIM, temporal warping error, known-pixel check
* ``baselines`` ``telea`` and ``flow_propagation``: ``(frames, holes) -> frames``
* ``mattes``    synthetic ``blob`` / ``logo`` / ``wire`` mattes
* ``clips``     video or image-sequence clips at a chosen size, scene-linear
* ``runner``    ``run_evaluation(EvaluationConfig) -> EvaluationResults``
* ``report``    ``write_report(results, out_dir)``
"""

from .errors import ClipError, EvaluationError, MatteSpecError, MethodError, MetricInputError

__all__ = ["EvaluationError", "MetricInputError", "ClipError", "MatteSpecError", "MethodError"]
