"""A running job as its node shows it: the listener and the progress bar's thread.

Every listener method runs on Nuke's main thread (``nuke.executeInMainThread``).
Each first checks that the node is still there under the name it had at Render:
a node deleted, renamed or closed with its script cancels its job. Whatever
raises while the job ends, the progress task is released, the job unregistered
and the error shown on the node.

The ``nuke.ProgressTask`` lives on a thread of its own that makes, updates,
polls and releases it, as Foundry's threading example uses one (all on one
worker thread); the listener only hands it numbers through a queue.
"""

from __future__ import annotations

import threading
from queue import Empty, SimpleQueue

import nuke

from plugin.core import RAW, JobListener, PluginError, ResultNotLoaded

from .result import no_undo, place_reads, set_status, show_error

running_jobs: dict = {}  # node full name -> its JobRunner, for this Nuke session
POLL = 0.1  # seconds between the progress thread's looks at the cancel button


class Progress:
    """Nuke's progress bar for one job, owned by its own thread."""

    def __init__(self, title: str):
        self.cancelled = threading.Event()  # the artist pressed the bar's cancel
        self._updates: SimpleQueue = SimpleQueue()
        self._thread = threading.Thread(target=self._run, args=(title,), name=f"progress-{title}", daemon=True)
        self._thread.start()

    def update(self, percent: int | None, message: str) -> None:
        self._updates.put((percent, message))

    def close(self, timeout: float = 2.0) -> None:
        """End the task (it closes when its object is released) and wait for that."""
        self._updates.put(None)
        self._thread.join(timeout)

    def _run(self, title: str) -> None:
        task = nuke.ProgressTask(title)
        try:
            while True:
                if task.isCancelled():
                    self.cancelled.set()
                try:
                    update = self._updates.get(timeout=POLL)
                except Empty:
                    continue
                if update is None:
                    return
                percent, message = update
                if percent is not None:
                    task.setProgress(percent)
                task.setMessage(message)
        finally:
            del task  # releases the task: Nuke removes the bar


class NodeListener(JobListener):
    """Shows a job on its node; ``key`` is the node's full name when Render was pressed."""

    def __init__(self, node, key: str, progress: Progress, colourspace, plate_format, settings_of):
        self.node, self.key, self.progress = node, key, progress
        self.colourspace, self.plate_format, self.settings_of = colourspace, plate_format, settings_of
        self.runner = None
        self.closed = False

    def cancel_requested(self) -> bool:  # polled on the job's worker thread
        return self.progress.cancelled.is_set()

    # ------------------------------------------------------------ updates
    def on_status(self, text):
        if self._usable():
            self._guard(lambda: (set_status(self.node, text), self.progress.update(None, text)))

    def on_progress(self, progress):
        if self._usable():
            text = progress.describe()
            self._guard(lambda: (set_status(self.node, text), self.progress.update(progress.percent, text)))

    # ------------------------------------------------------------ endings
    def on_done(self, result):
        if self._usable():
            try:
                self._guard(lambda: self._load(result), ending=True,
                            failed=f"the result is in {result.output}, but Nuke refused to load it")
            finally:
                self._close()

    def on_cancelled(self):
        if self._usable():
            try:
                self._guard(lambda: set_status(self.node, "Cancelled: nothing was written; press Render to "
                                                          "start again"), ending=True)
            finally:
                self._close()

    def on_error(self, error):
        if self._usable():
            try:
                self._guard(lambda: show_error(self.node, error), ending=True)
            finally:
                self._close()

    def _load(self, result):
        node = self.node
        with no_undo():
            node["result_file"].setValue(result.output)
            node["result_first"].setValue(str(result.frames[0]))
            node["result_last"].setValue(str(result.frames[-1]))
            node["result_colourspace"].setValue(self.colourspace or RAW)
            if node.knob("result_source_map") is not None:  # absent on a node saved by an earlier plugin
                node["result_source_map"].setValue(result.source_map or "")
            read, map_read, note = place_reads(node, self.settings_of, self.plate_format)
        if map_read is not None:
            note = f"source map in {map_read.name()}" + (f"; {note}" if note else "")
        elif self.runner is not None and self.runner.request.source_map:
            note = "the renderer sent no source map back (update it to one that writes them)" + (
                f"; {note}" if note else "")
        set_status(node, f"Done: {len(result.frames)} frames in {result.output} (read by {read.name()})"
                         + (f"; {note}" if note else ""))

    # ------------------------------------------------------------ plumbing
    def _usable(self) -> bool:
        """False once the job is closed, or (closing it) once the node is gone or renamed."""
        if self.closed:
            return False
        try:
            name = self.node.fullName()
        except ValueError:  # deleted, or its script closed: nothing left to show the job on
            self._abandon()
            nuke.tprint(f"[Inpaint] {self.key} was deleted during its render: the job is cancelled")
            return False
        if name != self.key:
            self._abandon()
            self._guard(lambda: set_status(
                self.node, f"Cancelled: the node was renamed from {self.key} during the render (its output "
                           "and result Read are named after it); press Render to start again"))
            return False
        return True

    def _abandon(self) -> None:
        if self.runner is not None:
            self.runner.cancel()
        self._close()

    def _guard(self, fn, ending: bool = False, failed: str = "Nuke refused an update of the node") -> None:
        """Run ``fn``; a failure is shown on the node (when it can be) and, mid-job, cancels it."""
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - nothing may escape into Nuke's event loop
            if not ending:
                self._abandon()
            error = exc if isinstance(exc, PluginError) else ResultNotLoaded(
                f"{failed} ({type(exc).__name__}: {exc}). The job has ended: press Load Result to bring in "
                "what it wrote, or Render to start again")
            try:
                show_error(self.node, error)
            except Exception:  # noqa: BLE001 - the node itself is unusable: the Script Editor is all that is left
                nuke.tprint(f"[Inpaint] {self.key}: {error.title}: {error}")

    def _close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.progress.close()
        if running_jobs.get(self.key) is self.runner:
            del running_jobs[self.key]
