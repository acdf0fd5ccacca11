"""Training steps replayed from CUDA graphs.

On a GPU the paper's step is bound by its ~900 small kernels, not by arithmetic
(0.1 ms of bf16 convolution work). A CUDA graph records the whole step once (forward,
losses, backward and Adam) and replays it with one launch: on an H200 that halves a
``paper`` step at 384x192, from 18 to 9 ms; what is left is the kernels' own time
(benchmarks/gpu/README.md).

A graph bakes in its shapes, its loss terms and the slices and constants those
read, so there is one graph per ``step.Batch.kind``: per (stride, direction) of
the flow, and with or without the extra-hole loss. Each step copies its batch
into that graph's static buffers (device-to-device) and sets the learning rate
in a device scalar, so no step touches the host. The first step of each kind
runs eagerly on a side stream (it initialises Adam's state and cuDNN's choices,
which must not happen inside a capture), then its graph is captured; the first
step is a real training step, so the run takes exactly its planned steps.
"""

from __future__ import annotations

import torch

from ..presets import Preset
from .step import Batch, gather, step_on

MAX_GRAPHS = 16  # kinds beyond this train eagerly: each graph keeps its own activation memory


def graphable(device: torch.device, preset: Preset, distributed: bool) -> bool:
    """Whether the training loop replays graphs here: CUDA, one network for the shot (per-frame
    presets rebuild theirs), and no data parallelism (DDP's all-reduce would need its own
    capture recipe)."""
    return device.type == "cuda" and not preset.per_frame and not distributed


def capturable_adam(params, lr: float) -> torch.optim.Adam:
    """Adam whose step counters live on the device, as a graph needs (``GraphedSteps`` puts
    the learning rate in a device scalar of its own)."""
    return torch.optim.Adam(params, lr=lr, capturable=True)


def conform_optimizer(optimizer: torch.optim.Adam, capturable: bool) -> None:
    """Make a restored Adam fit this run: a checkpoint written by a graphed run (step
    counters and learning rate on the GPU) may resume eagerly or on the CPU, and the
    other way round."""
    for group in optimizer.param_groups:
        group["capturable"] = capturable
        if isinstance(group["lr"], torch.Tensor):
            group["lr"] = float(group["lr"])  # the loop sets the rate before every step
        for p in group["params"]:
            state = optimizer.state.get(p, {})
            if "step" in state:
                state["step"] = state["step"].to(p.device if capturable else "cpu", torch.float32)


class GraphedSteps:
    """``steps(prep, seg, config, lr)`` does what ``step.train_step`` does, from a graph.

    The returned loss terms are the graph's static outputs: the next replay of the same
    kind overwrites them, so read them before then (the loop reads only the latest).
    ``replays`` and ``eager`` count the steps each way, for the caller to report."""

    def __init__(self, model, optimizer, preset: Preset, *, vgg=None, precision: str = "auto",
                 log=None):
        self.model, self.optimizer, self.preset = model, optimizer, preset
        self.vgg, self.precision, self.log = vgg, precision, log
        device = next(model.parameters()).device
        self.lr = torch.zeros((), device=device)
        for group in optimizer.param_groups:  # a checkpoint's restore may have put a float here
            group["lr"] = self.lr
        self.graphs: dict[tuple, tuple[Batch, torch.cuda.CUDAGraph, dict]] = {}
        self.failure: str | None = None  # why capture failed, when it did
        self.replays = self.eager = 0

    def __call__(self, prep, seg, config: int, lr: float) -> dict[str, torch.Tensor]:
        batch = gather(prep, seg, self.preset, config, vgg=self.vgg)
        self.lr.fill_(lr)
        entry = self.graphs.get(batch.kind)
        if entry is not None:
            static, graph, parts = entry
            batch.copy_into(static)
            graph.replay()
            self.replays += 1
            return parts
        self.eager += 1
        if self.failure is not None or len(self.graphs) >= MAX_GRAPHS:
            return self._step(batch)
        return self._first_of_kind(batch)

    def _step(self, batch: Batch, autocast_cache: bool = True) -> dict[str, torch.Tensor]:
        return step_on(self.model, self.optimizer, batch, self.preset, vgg=self.vgg, precision=self.precision,
                       autocast_cache=autocast_cache)

    def _first_of_kind(self, batch: Batch) -> dict[str, torch.Tensor]:
        static = batch.static_copy()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            parts = self._step(static)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                graph_parts = self._step(static, autocast_cache=False)
        except RuntimeError as err:  # the run goes on eagerly: slower, the same maths
            self.failure = str(err).splitlines()[0] if str(err) else type(err).__name__
            # out of memory is the likely cause on a big plate: give the eager steps every graph's memory
            self.optimizer.zero_grad(set_to_none=True)
            self.graphs.clear()
            torch.cuda.empty_cache()
            if self.log:
                self.log(f"CUDA graphs: capture failed ({self.failure}); training without them")
            return parts
        self.graphs[batch.kind] = (static, graph, graph_parts)
        return parts


class GraphedForward:
    """``model(x)`` for inference, replayed from a CUDA graph (one per input shape).

    The held-out checks run the network over every frame in overlapping 5-frame windows:
    96 forward passes for a 100-frame shot, six times a run. Launched one kernel at a
    time they took 0.4 s a check on an H200. The outputs are the graph's static
    tensors: read them before the next call. Parameters are read in place, so the graph
    sees every update and ``load_state_dict``. A failed capture falls back to ``model``."""

    def __init__(self, model, log=None):
        self.model, self.log = model, log
        self.graphs: dict[tuple, tuple] = {}
        self.failure: str | None = None

    @torch.no_grad()
    def __call__(self, x: torch.Tensor):
        if self.failure is not None:
            return self.model(x)
        key = (tuple(x.shape), x.dtype)
        entry = self.graphs.get(key)
        if entry is None:
            entry = self._capture(x)
            if entry is None:
                return self.model(x)
        static_in, graph, static_out = entry
        static_in.copy_(x)
        graph.replay()
        return static_out

    def _capture(self, x: torch.Tensor):
        static_in = x.clone()
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # cuDNN settles its choices outside the capture
            self.model(static_in)
        torch.cuda.current_stream().wait_stream(side)
        graph = torch.cuda.CUDAGraph()
        try:
            with torch.cuda.graph(graph, capture_error_mode="thread_local"):
                static_out = self.model(static_in)
        except RuntimeError as err:
            self.failure = str(err).splitlines()[0] if str(err) else type(err).__name__
            self.graphs.clear()
            torch.cuda.empty_cache()
            if self.log:
                self.log(f"CUDA graphs: inference capture failed ({self.failure}); inferring without them")
            return None
        entry = self.graphs[(tuple(x.shape), x.dtype)] = (static_in, graph, static_out)
        return entry
