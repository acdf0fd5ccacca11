"""Operators: Render, Cancel and Load Result for the compositor's Inpaint panel.

Render gathers the plate, matte and reference on Blender's main thread, then runs the job
on a worker thread (``plugin.core.JobRunner``). The worker posts UI updates to
a ``MainThreadQueue``; ``bpy.app.timers`` drains it with a GUI, and in
background mode (``blender -b``, or ``bpy`` as a module, where timers never fire)
the operator drains it itself until the job ends.
"""

from __future__ import annotations

import functools
import os
import time

import bpy

from plugin.core import (RAW, BadReference, JobListener, JobRunner, MainThreadQueue, PluginError, ResultNotLoaded,
                         SettingsError, build_request, output_pattern, reference_frames, result_spec, source_map_spec)

from . import gather
from .props import settings_of

PREVIEW_IMAGE = "Inpaint Preview"
TICK = 0.2  # seconds between UI updates while a job runs
CONNECT_TIMEOUT = 10.0
REFERENCE_WORDS = ("no Reference node is picked in the Inpaint panel: pick the Image node of the clean frame you "
                   "painted", "a Reference node is picked")


class _Job:
    """A running job of one scene: its runner, its queue of UI calls, its listener."""

    def __init__(self, runner: JobRunner, queue: MainThreadQueue, listener: "_SceneListener"):
        self.runner, self.queue, self.listener = runner, queue, listener

    def wait_here(self, timeout: float | None = None) -> None:
        """Background mode: play the UI thread ourselves until the job ends."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.runner.running and (deadline is None or time.monotonic() < deadline):
            self.queue.drain()
            time.sleep(0.05)
        self.runner.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
        self.queue.drain()


_jobs: dict[str, _Job] = {}  # scene name -> its running job, in this Blender session


def start(scene) -> _Job:
    """Gather the inputs (main thread) and start the job on a worker thread."""
    props = scene.inpaint
    job = _jobs.get(scene.name)
    if job is not None and job.runner.running:
        raise PluginError("A render is already running for this scene: press Cancel first")
    settings = settings_of(props)
    tree = scene.compositing_node_group
    if tree is None:
        raise SettingsError("This scene has no compositor node tree: open the Compositor and add the plate")
    plate_node = tree.nodes.get(props.plate_node) if props.plate_node else tree.nodes.active
    plate = gather.image_sequence(plate_node, "plate")
    props.plate_node = plate.node_name
    frames = settings.frames(plate.first, plate.last)
    reference_node = tree.nodes.get(props.reference_node) if props.reference_node else None
    if props.reference_node and reference_node is None:
        raise BadReference(f"the Reference node '{props.reference_node}' is not in this compositor tree: pick the "
                           "Image node of the clean frame you painted again, or clear Reference")
    painted = reference_frames(settings, reference_node is not None, frames, words=REFERENCE_WORDS)
    output = output_pattern(bpy.path.abspath(settings.output) if settings.output else "", plate.pattern)
    scratch = os.path.join(os.path.dirname(output), f".{plate.node_name}_inputs")
    plate_path, colourspace = plate.pattern, plate.colourspace
    if not plate.exr:
        plate_path = gather.render_node_input(plate_node, plate, frames, os.path.join(scratch, "plate.####.exr"))
        colourspace = RAW
    matte_channel = None
    if props.matte_source == "MASK":
        matte_path = gather.render_mask(props.mask, plate, frames, os.path.join(scratch, "matte.####.exr"))
        matte_channel = "R"
    else:
        matte_node = tree.nodes.get(props.matte_node)
        matte = gather.image_sequence(matte_node, "matte")
        if matte.exr and matte.same_timing(plate):
            matte_path = matte.pattern
        else:
            matte_path = gather.render_node_input(matte_node, plate, frames, os.path.join(scratch, "matte.####.exr"))
    references = gather.reference_files(reference_node, plate, painted, scratch) if painted else None
    request = build_request(settings, plate=plate_path, matte=matte_path, frames=frames,
                            name=f"{scene.name}_{plate.node_name}", matte_channel=matte_channel, output=output,
                            timeout=CONNECT_TIMEOUT, references=references)
    queue = MainThreadQueue()
    listener = _SceneListener(scene.name, plate, colourspace)
    runner = JobRunner(request, listener, post=queue.post)
    listener.runner = runner
    job = _jobs[scene.name] = _Job(runner, queue, listener)
    props.running, props.progress = True, 0.0
    props.status = f"Starting: {len(frames)} frames to {output}"
    runner.start()
    return job


def _tick(scene_name: str):
    """bpy.app.timers callback: apply the worker's updates; stop once the job has ended."""
    job = _jobs.get(scene_name)
    if job is None:
        return None
    job.queue.drain()
    if job.runner.running:
        return TICK
    job.queue.drain()
    _jobs.pop(scene_name, None)
    return None


def cancel_all() -> None:
    """On unregister: stop every job and timer of this session."""
    for name, job in list(_jobs.items()):
        job.runner.cancel()
        if bpy.app.timers.is_registered(job.listener.timer):
            bpy.app.timers.unregister(job.listener.timer)
        _jobs.pop(name, None)


def load_result(scene):
    """The result node for the scene's last render (or its Output knob)."""
    props = scene.inpaint
    tree = scene.compositing_node_group
    if tree is None:
        raise SettingsError("This scene has no compositor node tree")
    plate = gather.image_sequence(tree.nodes.get(props.plate_node) if props.plate_node else None, "plate")
    if props.result_file:
        path, first, last = props.result_file, props.result_first, props.result_last
        colourspace = props.result_colourspace or RAW
    else:
        settings = settings_of(props)
        if not settings.output:
            raise SettingsError("Nothing rendered yet: press Render (or set Output to an existing result)")
        path = output_pattern(bpy.path.abspath(settings.output), plate.pattern)
        frames = settings.frames(plate.first, plate.last)
        first, last, colourspace = frames[0], frames[-1], plate.colourspace
    plate_node = tree.nodes[plate.node_name]
    spec = result_spec(plate.node_name, path, range(first, last + 1), tuple(plate_node.location),
                       int(plate_node.width), None if colourspace == RAW else colourspace)
    node = gather.place_result(tree, plate, spec)
    props.result_node = node.name
    props.result_source_map_node = ""
    if props.result_file and props.result_source_map:  # the last render brought a source map back
        map_spec = source_map_spec(spec, plate.node_name, props.result_source_map, int(node.width))
        props.result_source_map_node = gather.place_result(tree, plate, map_spec, label="Inpaint source map").name
    return node


def _redraw() -> None:
    wm = bpy.context.window_manager
    for window in getattr(wm, "windows", ()):
        for area in window.screen.areas:
            if area.type == "NODE_EDITOR":
                area.tag_redraw()


class _SceneListener(JobListener):
    """Shows a job in the scene's Inpaint panel. Runs on Blender's main thread.

    Each update first checks that the scene and the plate node are still there:
    removing either cancels the job. Whatever raises while the job ends, the job
    is unregistered and the panel says what happened.
    """

    def __init__(self, scene_name: str, plate, colourspace: str):
        self.scene_name, self.plate, self.colourspace = scene_name, plate, colourspace
        self.timer = functools.partial(_tick, scene_name)
        self.runner = None
        self.closed = False

    def _props(self):
        """The scene's settings while the job can still be shown, else None (and the job cancelled)."""
        if self.closed:
            return None
        scene = bpy.data.scenes.get(self.scene_name)
        if scene is None:
            self._abandon()
            return None
        tree = scene.compositing_node_group
        if tree is None or tree.nodes.get(self.plate.node_name) is None:
            self._abandon()
            scene.inpaint.running = False
            scene.inpaint.status = (f"Cancelled: the plate node '{self.plate.node_name}' was removed during the "
                                    "render; press Render to start again")
            _redraw()
            return None
        return scene.inpaint

    def _abandon(self) -> None:
        if self.runner is not None:
            self.runner.cancel()
        self._close()

    def _close(self) -> None:
        self.closed = True
        job = _jobs.get(self.scene_name)
        if job is not None and job.listener is self:
            _jobs.pop(self.scene_name, None)

    def _guard(self, props, fn, ending: bool = False, failed: str = "Blender refused an update of the panel"):
        """Run ``fn``; a failure is shown in the panel and, mid-job, cancels it."""
        try:
            fn()
        except Exception as exc:  # noqa: BLE001 - nothing may escape into Blender's timer or the operator
            if not ending:
                self._abandon()
            error = exc if isinstance(exc, PluginError) else ResultNotLoaded(
                f"{failed} ({type(exc).__name__}: {exc}). The job has ended: press Load Result to bring in what "
                "it wrote, or Render to start again")
            props.running = False
            props.status = f"ERROR: {error.title}: {error}"
            _redraw()
        finally:
            if ending:
                props.running = False
                self._close()

    def on_status(self, text):
        props = self._props()
        if props is not None:
            self._guard(props, lambda: (setattr(props, "status", text), _redraw()))

    def on_progress(self, progress):
        props = self._props()
        if props is not None:
            def show():
                props.progress = progress.percent
                props.status = progress.describe()
                _redraw()

            self._guard(props, show)

    def on_preview(self, step, frames):
        props = self._props()
        if props is not None and frames:
            self._guard(props, lambda: _show_preview(frames))

    def on_done(self, result):
        props = self._props()
        if props is not None:
            self._guard(props, lambda: self._load(result), ending=True,
                        failed=f"the result is in {result.output}, but Blender could not load it")

    def _load(self, result):
        scene = bpy.data.scenes[self.scene_name]
        props = scene.inpaint
        props.result_file = result.output
        props.result_first, props.result_last = result.frames[0], result.frames[-1]
        props.result_colourspace = self.colourspace
        props.result_source_map = result.source_map or ""
        node = load_result(scene)
        props.running, props.progress = False, 100.0
        props.status = f"Done: {len(result.frames)} frames in node '{node.name}'"
        if props.result_source_map_node:
            props.status += f"; source map in node '{props.result_source_map_node}'"
        elif self.runner is not None and self.runner.request.source_map:
            props.status += "; the renderer sent no source map back (update it to one that writes them)"
        _redraw()

    def on_cancelled(self):
        props = self._props()
        if props is not None:
            self._guard(props, lambda: setattr(props, "status", "Cancelled: nothing was written; press Render to "
                                                                "start again"), ending=True)

    def on_error(self, error):
        props = self._props()
        if props is not None:
            self._guard(props, lambda: setattr(props, "status", f"ERROR: {error.title}: {error}"), ending=True)


def _show_preview(frames) -> None:
    import numpy as np

    pixels = np.asarray(frames[min(frames)], dtype=np.float32)
    h, w = pixels.shape[:2]
    image = bpy.data.images.get(PREVIEW_IMAGE)
    if image is None or tuple(image.size) != (w, h):
        if image is not None:
            bpy.data.images.remove(image)
        image = bpy.data.images.new(PREVIEW_IMAGE, w, h, float_buffer=True, alpha=True)
    rgba = np.concatenate([pixels[..., :3], np.ones((h, w, 1), np.float32)], axis=-1)[::-1]
    image.pixels.foreach_set(rgba.ravel())
    image.update()


class INPAINT_OT_render(bpy.types.Operator):
    """Send the plate and matte to the renderer and bring the result back as an Image node"""

    bl_idname = "inpaint.render"
    bl_label = "Render"
    bl_options = {"REGISTER"}

    wait: bpy.props.BoolProperty(name="Wait", default=False, options={"SKIP_SAVE"},
                                 description="Block until the job ends (always so in background mode)")

    @classmethod
    def poll(cls, context):
        return context.scene is not None and context.scene.compositing_node_group is not None

    def execute(self, context):
        scene = context.scene
        try:
            job = start(scene)
        except PluginError as exc:
            scene.inpaint.status = f"ERROR: {exc.title}: {exc}"
            scene.inpaint.running = False
            self.report({"ERROR"}, f"{exc.title}: {exc}")
            return {"CANCELLED"}
        if not (self.wait or bpy.app.background):
            bpy.app.timers.register(job.listener.timer, first_interval=TICK)
            return {"FINISHED"}
        job.wait_here()
        if _jobs.get(scene.name) is job:
            _jobs.pop(scene.name)
        status = scene.inpaint.status
        if job.runner.state == "failed" or status.startswith("ERROR: "):
            self.report({"ERROR"}, status.removeprefix("ERROR: "))
            return {"CANCELLED"}
        if job.runner.state == "cancelled" or status.startswith("Cancelled"):
            self.report({"WARNING"}, status)
            return {"CANCELLED"}
        self.report({"INFO"}, status)
        return {"FINISHED"}


class INPAINT_OT_cancel(bpy.types.Operator):
    """Stop the running inpaint job of this scene"""

    bl_idname = "inpaint.cancel"
    bl_label = "Cancel"

    @classmethod
    def poll(cls, context):
        job = _jobs.get(context.scene.name) if context.scene else None
        return job is not None and job.runner.running

    def execute(self, context):
        _jobs[context.scene.name].runner.cancel()
        context.scene.inpaint.status = "Cancelling..."
        return {"FINISHED"}


class INPAINT_OT_load_result(bpy.types.Operator):
    """Add (or refresh) the last result as an Image node beside the plate"""

    bl_idname = "inpaint.load_result"
    bl_label = "Load Result"
    bl_options = {"REGISTER", "UNDO"}

    def execute(self, context):
        try:
            node = load_result(context.scene)
        except PluginError as exc:
            self.report({"ERROR"}, f"{exc.title}: {exc}")
            return {"CANCELLED"}
        self.report({"INFO"}, f"Result in node '{node.name}'")
        return {"FINISHED"}
