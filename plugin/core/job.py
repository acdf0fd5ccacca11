"""Running one inpaint job from a host: build it (``request``), run it on a worker thread, report back.

    request = build_request(settings, plate="/plates/sh010.####.exr", matte="/roto/sh010.####.exr",
                            frames=range(1001, 1017), name="Inpaint1")
    runner = JobRunner(request, listener, post=host_post)   # host_post runs a call on the UI thread
    runner.start()            # socket I/O happens on the worker thread
    runner.cancel()           # from the UI thread, any time

Every ``JobListener`` method runs through ``post`` (Nuke: ``nuke.executeInMainThread``;
Blender: a ``MainThreadQueue`` drained by ``bpy.app.timers``), so listeners may touch
the host's UI. ``should_cancel`` is polled on the worker thread (``ProgressTask.isCancelled``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from queue import Empty, SimpleQueue
from typing import Any, Callable, Mapping

from . import errors
from .request import ENV_CLIENT_KEY, ENV_SERVER_KEY, JobRequest

CLIENT_NAME = "internal-inpaint plugin"


@dataclass(frozen=True)
class ProgressInfo:
    """Training progress in the units a progress bar wants."""

    step: int
    total: int
    loss: float
    eta: float | None
    stage: str = "train"
    message: str = ""

    @property
    def percent(self) -> int:
        return 0 if self.total <= 0 else max(0, min(100, int(100 * self.step / self.total)))

    def describe(self) -> str:
        eta = "" if self.eta is None else f", about {_duration(self.eta)} left"
        loss = f" (loss {self.loss:.4g})" if self.loss == self.loss and self.stage == "train" else ""
        note = f": {self.message}" if self.message and self.stage != "train" else ""
        return f"{self.stage.capitalize()} {self.step}/{self.total}{loss}{eta}{note}"


@dataclass(frozen=True)
class JobResult:
    """A finished job: the result pattern, its frames and the files written."""

    output: str
    frames: tuple[int, ...]
    paths: dict[int, str] = field(default_factory=dict)
    source_map: str | None = None  # hash pattern, when the renderer sent a source map back
    source_map_paths: dict[int, str] = field(default_factory=dict)


class JobListener:
    """What a host shows. All methods run on the host's UI thread; override any."""

    def on_status(self, text: str) -> None: ...

    def on_progress(self, progress: ProgressInfo) -> None: ...

    def on_preview(self, step: int, frames: Mapping[int, Any]) -> None: ...

    def on_done(self, result: JobResult) -> None: ...

    def on_cancelled(self) -> None: ...

    def on_error(self, error: errors.PluginError) -> None: ...


def call_now(fn: Callable, *args: Any) -> None:
    """A ``post`` for hosts without a UI thread (and for tests): call at once."""
    fn(*args)


class MainThreadQueue:
    """A ``post`` target for hosts that poll (Blender's ``bpy.app.timers``).

    The worker thread calls ``post``; the UI thread calls ``drain`` now and then.
    """

    def __init__(self) -> None:
        self._calls: SimpleQueue = SimpleQueue()

    def post(self, fn: Callable, *args: Any) -> None:
        self._calls.put((fn, args))

    def drain(self) -> int:
        """Run every waiting call on this thread; returns how many ran."""
        ran = 0
        while True:
            try:
                fn, args = self._calls.get_nowait()
            except Empty:
                return ran
            fn(*args)
            ran += 1


class JobRunner:
    """Runs a ``JobRequest`` on a worker thread and reports to a ``JobListener``.

    ``post(fn, *args)`` hands each listener call to the UI thread. ``should_cancel``
    (optional) is polled on the worker thread between events. ``client_factory``
    defaults to ``bridge.Client`` (imported only when a job runs). A worker that has
    not stopped ``cancel_grace`` seconds after a cancel (stuck in the network) is
    abandoned: the job reads as cancelled and nothing it posts later reaches the UI.
    """

    def __init__(self, request: JobRequest, listener: JobListener, *, post: Callable = call_now,
                 should_cancel: Callable[[], bool] | None = None, client_factory: Callable | None = None,
                 cancel_grace: float = 15.0):
        self.request = request
        self.listener = listener
        self._ui_post = post
        self._should_cancel = should_cancel
        self._client_factory = client_factory
        self._cancel_grace = cancel_grace
        self._cancel = threading.Event()
        self._finished = threading.Event()
        self._lock = threading.Lock()
        self._abandoned = False
        self._thread: threading.Thread | None = None
        self._last_status = ""
        self.state = "idle"  # idle, running, done, failed, cancelled
        self.error: errors.PluginError | None = None
        self.result: JobResult | None = None

    # ------------------------------------------------------------ UI thread
    def start(self) -> "JobRunner":
        if self._thread is not None:
            raise errors.PluginError("this job has already started; make a new one to render again")
        self.state = "running"
        self._thread = threading.Thread(target=self._run, name=f"inpaint-{self.request.shot['name']}",
                                        daemon=True)
        self._thread.start()
        return self

    def cancel(self) -> None:
        """Ask the job to stop (the worker tells the server at its next event)."""
        if self._cancel.is_set() or self._thread is None or self._finished.is_set():
            self._cancel.set()
            return
        self._cancel.set()
        watchdog = threading.Timer(self._cancel_grace, self._abandon)
        watchdog.daemon = True
        watchdog.start()

    def _abandon(self) -> None:
        with self._lock:
            if self._finished.is_set():
                return
            self._abandoned = True
            self.state = "cancelled"
            self._ui_post(self.listener.on_cancelled)
            self._finished.set()

    def _post(self, fn: Callable, *args: Any) -> None:
        with self._lock:
            if not self._abandoned:
                self._ui_post(fn, *args)

    @property
    def running(self) -> bool:
        return self._thread is not None and not self._finished.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the worker has finished (its last ``post`` is made); True if it has."""
        return self._finished.wait(timeout)

    # ------------------------------------------------------------ worker thread
    def _cancel_wanted(self) -> bool:
        if not self._cancel.is_set() and self._should_cancel is not None and self._should_cancel():
            self._cancel.set()
        return self._cancel.is_set()

    def _run(self) -> None:
        try:
            outcome = self._talk()
            if outcome is None:
                self._end("cancelled", self.listener.on_cancelled)
            else:
                self.result = outcome
                self._end("done", self.listener.on_done, outcome)
        except errors.PluginError as exc:
            self._fail(exc)
        except Exception as exc:  # a bug or an unexpected failure: still tell the artist
            self._fail(errors.RenderFailed(f"unexpected {type(exc).__name__}: {exc}; please report it with "
                                           "the script and the renderer's log"))
        finally:
            self._finished.set()

    def _end(self, state: str, fn: Callable, *args: Any) -> None:
        with self._lock:
            if self._abandoned:
                return
            self.state = state
            self._ui_post(fn, *args)

    def _fail(self, exc: errors.PluginError) -> None:
        if isinstance(exc, errors.JobCancelled):
            self._end("cancelled", self.listener.on_cancelled)
            return
        self.error = exc
        self._end("failed", self.listener.on_error, exc)

    def _talk(self) -> JobResult | None:
        req = self.request
        bridge = _import_bridge()
        factory = self._client_factory or bridge.Client
        status = self._post_status
        try:
            status(f"Connecting to {req.server}")
            curve = bridge.CurveClient(*req.curve) if req.curve else None
            with factory(req.server, timeout=req.timeout, name=CLIENT_NAME, curve=curve) as client:
                welcome = client.hello()
                status(f"Connected to {getattr(welcome, 'server', 'the renderer')}; "
                       + ("uploading frames" if req.mode == "stream" else "submitting"))
                if self._cancel_wanted():
                    return None
                job = client.submit(req.shot, mode=req.mode, overrides=req.overrides,
                                    on_upload=lambda done, total: status(f"Uploaded {done}/{total} images"))
                cancelled_sent = False
                outcome = None
                for event in job.events():
                    if self._cancel_wanted() and not cancelled_sent:
                        cancelled_sent = True
                        status("Cancelling (the renderer keeps its checkpoint)")
                        job.cancel()
                    outcome = self._handle(bridge, event) or outcome
        except bridge.BridgeError as exc:
            raise _plugin_error(bridge, exc, req) from None
        if outcome is None or outcome.status == "cancelled":
            return None
        if outcome.status != "done":
            err = outcome.error
            raise _failure(err.code if err else outcome.status, err.message if err else "", req)
        paths = {int(f): p for f, p in outcome.output_paths.items()}
        maps = {int(f): p for f, p in outcome.source_map_paths.items()}
        return JobResult(output=req.output, frames=req.frames, paths=paths, source_map_paths=maps,
                         source_map=req.source_map if maps else None)

    def _post_status(self, text: str) -> None:
        if text != self._last_status:  # the server repeats a state on every change of queue place
            self._last_status = text
            self._post(self.listener.on_status, text)

    def _handle(self, bridge, event):
        ev = bridge.events
        if isinstance(event, ev.Queued):
            place = f" (place {event.place})" if event.place else ""
            self._post_status(f"Queued on the renderer{place}")
        elif isinstance(event, ev.Progress):
            self._post(self.listener.on_progress,
                       ProgressInfo(step=event.step, total=event.total, loss=event.loss, eta=event.eta,
                                    stage=event.stage, message=event.message))
        elif isinstance(event, ev.Preview):
            self._post(self.listener.on_preview, event.step, dict(event.frames))
        elif isinstance(event, ev.Status):
            note = f": {event.message}" if event.message and event.state != "failed" else ""
            self._post_status(f"{event.state.capitalize()}{note}")
        elif isinstance(event, ev.Done):
            return event.outcome
        return None


def _import_bridge():
    try:
        import bridge
        import bridge.events  # noqa: F401
    except ImportError as exc:
        raise errors.BridgeUnavailable(
            f"this application's Python cannot load the renderer bridge ({exc}). Install the plugin's "
            "packages into it (pyzmq, msgpack and the internal-inpaint package; see docs/plugin.md)") from None
    return bridge


def _plugin_error(bridge, exc, req: JobRequest) -> errors.PluginError:
    """A ``bridge.BridgeError`` in words an artist can act on."""
    if isinstance(exc, bridge.ServerUnreachable):
        keys = (f" With CURVE keys ({ENV_SERVER_KEY}, {ENV_CLIENT_KEY}), also check that the renderer's --allow "
                "folder holds your public key.") if req.curve else ""
        return errors.ServerUnreachable(
            f"Cannot reach the renderer at {req.server}: nothing answered within {req.timeout:.0f} s. "
            f"Start it with `renderer serve --bind {req.server}` on the render machine, or fix the Server knob.{keys}")
    if isinstance(exc, bridge.VersionMismatch):
        return errors.VersionMismatch(f"{exc.message}. Install the same release of the plugin and the "
                                      "renderer (ask your pipeline team to update one of them).")
    if isinstance(exc, bridge.JobCancelled):
        return errors.JobCancelled(exc.message)
    if isinstance(exc, bridge.ImageError):
        return errors.BadPlate(f"{exc.message}. Check that the Source and Matte files exist and are EXRs.")
    if isinstance(exc, bridge.KeyFileError):
        return errors.SettingsError(f"{exc.message}. The key files come from {ENV_SERVER_KEY} and "
                                    f"{ENV_CLIENT_KEY}; ask your pipeline team")
    if isinstance(exc, bridge.PathRefused):
        return errors.SettingsError(f"{exc.message}. In shared mode every path must be on the renderer's "
                                    "shared storage; switch Transfer to stream otherwise.")
    return _failure(exc.code, exc.message, req)


def _failure(code: str, message: str, req: JobRequest) -> errors.PluginError:
    text = message or f"the job ended as {code}"
    if code in ("bad_input", "bad_shot", "buffer_mismatch") and "reference" in text.lower():
        return errors.BadReference(f"{text}. A reference is the whole painted frame, at the plate's size, on a "
                                   "frame of the range.")
    if code in ("bad_input", "bad_shot") and ("matte" in text.lower() or "mask" in text.lower()):
        return errors.BadMatte(f"{text}. Check the Matte input and the Matte channel knob "
                               f"(white marks the hole; '{req.shot['mask'].get('channel')}' was used).")
    if code == "bad_input":
        return errors.BadPlate(f"{text}. Check the Source input: every frame must be a readable EXR.")
    if code in ("bad_shot", "limit_exceeded", "wrong_type", "unknown_field"):
        return errors.SettingsError(f"The renderer refused the job: {text}")
    return errors.RenderFailed(f"The renderer could not finish the job ({code}): {text}")


def _duration(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
