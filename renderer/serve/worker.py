"""One worker thread per device: takes the next queued job and renders it.

The job function is injected (``runner``); by default it is
``renderer.api.render``. Progress and previews go to the server loop through
an ``Outbox`` (an inproc socket), never straight to clients.
"""

from __future__ import annotations

import logging
import os
import threading
import time
import traceback
from typing import Any, Callable

import numpy as np
import zmq

from bridge.errors import BridgeError
from bridge.messages import Preview, Progress
from bridge.sequence import frame_path
from bridge.wire import Pixels, encode

from ..callbacks import Callbacks
from ..errors import (Cancelled, CheckpointError, ConfigError, DeviceError, InputError, OutputError,
                      RendererError)
from .config import ServerConfig
from .jobs import confine_paths, validate
from .confine import real_roots
from .spool import JobRow, Spool

log = logging.getLogger("renderer.serve")

Runner = Callable[..., Any]
ERROR_CODES = ((ConfigError, "bad_shot"), (InputError, "bad_input"), (OutputError, "output_error"),
               (CheckpointError, "checkpoint_error"), (DeviceError, "device_error"), (RendererError, "render_failed"))


def default_runner(shot, **kwargs):
    """``renderer.api.render`` (imported here so the server loads torch only when it renders)."""
    from .. import api

    return api.render(shot, **kwargs)


class Outbox:
    """Thread-safe hand-off of messages to the server loop (inproc PUSH, one per thread)."""

    def __init__(self, context: zmq.Context, address: str):
        self._context, self._address = context, address
        self._local = threading.local()
        self._lock = threading.Lock()

    def _socket(self) -> zmq.Socket:
        sock = getattr(self._local, "socket", None)
        if sock is None:
            sock = self._context.socket(zmq.PUSH)
            sock.linger = 0
            sock.connect(self._address)
            self._local.socket = sock
        return sock

    def forward(self, job_id: str, frames: list) -> None:
        """Send ``frames`` (an encoded message) to whoever follows ``job_id``."""
        with self._lock:
            self._socket().send_multipart([b"fwd", job_id.encode(), *frames], copy=False)

    def changed(self, job_id: str) -> None:
        """The job's state changed: the loop sends statuses and new queue places."""
        with self._lock:
            self._socket().send_multipart([b"state", job_id.encode()])

    def close(self) -> None:
        sock = getattr(self._local, "socket", None)
        if sock is not None:
            sock.close(linger=0)


class Worker(threading.Thread):
    """Renders jobs on one device, one at a time."""

    def __init__(self, device: str, spool: Spool, config: ServerConfig, runner: Runner, outbox: Outbox,
                 wake: threading.Condition, stopping: threading.Event, cancels: dict[str, threading.Event]):
        super().__init__(name=f"render-{device}", daemon=True)
        self.device, self.spool, self.config, self.runner = device, spool, config, runner
        self.outbox, self.wake, self.stopping, self.cancels = outbox, wake, stopping, cancels
        self.current: str | None = None

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                job = self.spool.claim(self.device)
                if job is None:
                    with self.wake:
                        self.wake.wait(0.5)
                    continue
                self.current = job.id
                try:
                    self.run_job(job)
                finally:
                    self.current = None
        finally:
            self.outbox.close()

    def run_job(self, job: JobRow) -> None:
        cancel = self.cancels.setdefault(job.id, threading.Event())
        self.outbox.changed(job.id)
        log.info("job %s: running on %s%s", job.id, self.device, " (resuming)" if job.resume else "")
        try:
            outputs = self._render(job, cancel)
        except Cancelled:
            if self.stopping.is_set() and not cancel.is_set():  # server shutting down: run again on restart
                self.spool.set_state(job.id, "queued", resume=True)
                log.info("job %s: paused for shutdown; resumes on restart", job.id)
            else:
                self.spool.set_state(job.id, "cancelled", error={"code": "cancelled", "message": "cancelled"})
                log.info("job %s: cancelled", job.id)
        except BridgeError as exc:  # e.g. a path swapped for a symlink out of the shared roots
            self.spool.set_state(job.id, "failed", error={"code": exc.code, "message": exc.message})
            log.info("job %s: refused: %s", job.id, exc)
        except RendererError as exc:
            code = next(c for cls, c in ERROR_CODES if isinstance(exc, cls))
            self.spool.set_state(job.id, "failed", error={"code": code, "message": str(exc)})
            log.info("job %s: failed: %s", job.id, exc)
        except Exception as exc:  # the renderer crashed: keep serving, tell the client
            log.error("job %s: crashed:\n%s", job.id, traceback.format_exc())
            self.spool.set_state(job.id, "failed", error={
                "code": "internal", "message": f"the renderer crashed ({type(exc).__name__}: {exc}); the server "
                                               "log has the traceback; report it with the job id"})
        else:
            self.spool.set_state(job.id, "done", outputs=outputs)
            self.spool.drop_files(job.id, "work")  # checkpoints are not needed once the job is done
            log.info("job %s: done", job.id)
        finally:
            self.cancels.pop(job.id, None)
            self.outbox.changed(job.id)

    def _render(self, job: JobRow, cancel: threading.Event) -> dict:
        job_dir = self.spool.job_dir(job.id)
        overrides = job.settings["overrides"]
        shot = validate(job.settings["shot"], overrides, job_dir, self.config)
        if job.mode == "shared":
            confine_paths(shot, real_roots(self.config.shared_roots))  # symlinks may have changed since submit
        (job_dir / "out").mkdir(parents=True, exist_ok=True)
        callbacks = Callbacks(on_progress=lambda p: self._progress(job.id, p),
                              on_preview=lambda step, frames: self._preview(job.id, step, frames),
                              should_stop=lambda: cancel.is_set() or self.stopping.is_set(),
                              log=lambda text: log.info("job %s: %s", job.id, text))
        if self.config.preview_every:
            callbacks.preview_every = self.config.preview_every
        result = self.runner(shot, preset=overrides.get("preset"), steps=overrides.get("steps"),
                             seed=overrides.get("seed"), device=self.device, fresh=False, callbacks=callbacks)
        paths = dict(sorted(getattr(result, "output_paths", {}).items()))
        outputs = {"frames": list(paths), "paths": list(paths.values())}
        if shot.source_map:  # the renderer writes it beside the output, with the output's frame numbers
            maps = {f: frame_path(shot.source_map, f) for f in paths if os.path.isfile(frame_path(shot.source_map, f))}
            if len(maps) < len(paths):
                log.warning("job %s: the shot asked for a source map, but the renderer wrote %d of its %d frames",
                            job.id, len(maps), len(paths))
            outputs.update(map_frames=list(maps), map_paths=list(maps.values()))
        return outputs

    def _progress(self, job_id: str, p) -> None:
        eta = None if p.eta is None else float(p.eta)
        msg = Progress(step=int(p.step), total=int(p.total), loss=float(p.loss), elapsed=float(p.elapsed), eta=eta,
                       stage=str(p.stage), message=str(p.message)[:1000])
        self.outbox.forward(job_id, encode(msg, job_id=job_id))

    def _preview(self, job_id: str, step: int, frames) -> None:
        pixels, numbers = [], []
        for frame, image in sorted(frames.items())[:8]:
            image = np.asarray(image)
            stride = max(1, -(-image.shape[1] // self.config.preview_max_width))
            small = np.ascontiguousarray(image[::stride, ::stride, :3], dtype=np.float16)
            pixels.append(Pixels(small, ("R", "G", "B")))
            numbers.append(int(frame))
        self.outbox.forward(job_id, encode(Preview(step=int(step), frames=numbers), job_id=job_id, pixels=pixels))


def wait_idle(workers: list[Worker], timeout: float) -> None:
    """Join worker threads (used at shutdown)."""
    end = time.monotonic() + timeout
    for worker in workers:
        worker.join(max(0.0, end - time.monotonic()))
