"""A submitted job as the client sees it: upload, events, cancel, results."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from . import events as ev
from .errors import BridgeError, ImageError, LimitExceeded, Timeout
from .imageio import Image, read_exr, write_exr
from .messages import FETCH_KINDS, TERMINAL_STATES, Cancel, FrameAck, FrameUpload, Preview, Progress, Release, \
    Result, Status, StatusRequest, Fetch
from .sequence import frame_path, parse_frames
from .wire import Pixels

if TYPE_CHECKING:
    from .client import Client

_PATH_KEYS = ("source", "output", "work_dir", "perceptual_weights", "source_map")


@dataclass(frozen=True)
class LocalShot:
    """The shot's paths resolved on this machine (for reading plates and writing results)."""

    shot: dict[str, Any]
    source: str
    output: str
    matte: str | None
    frames: tuple[int, ...]
    compression: str = "zip"
    references: tuple[tuple[int, str], ...] = ()  # (frame, painted file) pairs
    source_map: str | None = None  # where the source map goes here; None: not asked for

    @classmethod
    def from_dict(cls, shot: Mapping[str, Any], base_dir: str | os.PathLike | None = None) -> "LocalShot":
        if not isinstance(shot, Mapping):
            raise BridgeError("the shot must be a mapping of shot.yaml keys (source, mask, frames, output)")
        base = Path(base_dir or ".").resolve()
        data = dict(shot)

        def resolve(value: Any, key: str) -> str:
            if not isinstance(value, str) or not value:
                raise BridgeError(f"shot '{key}' must be a path, got {value!r}")
            p = Path(os.path.expandvars(os.path.expanduser(value)))
            return str(p if p.is_absolute() else base / p)

        for key in ("source", "output"):
            if key not in data:
                raise BridgeError(f"the shot has no '{key}'; add it (see shot.yaml)")
        for key in _PATH_KEYS:
            if data.get(key) is not None:
                data[key] = resolve(data[key], key)
        mask = data.get("mask")
        if isinstance(mask, str):
            mask = {"path": mask}
        if isinstance(mask, Mapping):
            mask = dict(mask)
            if mask.get("path") is not None:
                mask["path"] = resolve(mask["path"], "mask.path")
            data["mask"] = mask
        if data.get("references") is not None:
            data["references"] = _references(data["references"], resolve)
        try:
            frames = tuple(parse_frames(data.get("frames")))
        except ValueError:
            frames = ()  # a range only the renderer understands: the server's answer lists the frames
        matte = mask.get("path") if isinstance(mask, Mapping) else None
        return cls(shot=data, source=data["source"], output=data["output"], matte=matte, frames=frames,
                   compression=str(data.get("compression", "zip")),
                   references=tuple((r["frame"], r["path"]) for r in data.get("references") or ()),
                   source_map=data.get("source_map"))

    def wire_shot(self, mode: str) -> dict[str, Any]:
        """The shot as sent. Stream mode sends file names only (the server cannot see ours)."""
        if mode == "shared":
            return dict(self.shot)
        data = {k: v for k, v in self.shot.items() if k not in ("work_dir", "perceptual_weights")}
        data["source"] = Path(self.source).name
        data["output"] = Path(self.output).name
        if isinstance(data.get("mask"), dict) and data["mask"].get("path"):
            data["mask"] = dict(data["mask"], path=Path(data["mask"]["path"]).name)
        if self.references:
            data["references"] = [{"frame": f, "path": Path(p).name} for f, p in self.references]
        if self.source_map:
            data["source_map"] = Path(self.source_map).name  # any name: it only asks for the map
        return data

    def input_path(self, role: str, frame: int) -> str:
        if role == "reference":
            path = dict(self.references).get(frame)
            if path is None:
                raise BridgeError(f"the server asked for a reference of frame {frame}, but the shot has none there")
            return path
        return frame_path(self.source if role == "plate" else self.matte, frame)

    def check_inputs(self) -> None:
        """Fail before submitting if an input frame is missing here."""
        for frame in self.frames:
            for role, pattern in (("plate", self.source), ("matte", self.matte)):
                if pattern and not os.path.isfile(frame_path(pattern, frame)):
                    raise ImageError(f"{role} frame {frame} not found: {frame_path(pattern, frame)}")
        for frame, path in self.references:
            if not os.path.isfile(path):
                raise ImageError(f"reference frame {frame} not found: {path}")


def _references(value: Any, resolve: Callable[[Any, str], str]) -> list[dict[str, Any]]:
    """The shot's ``references`` as [{frame, path}] with local paths resolved."""
    if not isinstance(value, (list, tuple)):
        raise BridgeError("shot 'references' must be a list of {frame: N, path: FILE}")
    out = []
    for item in value:
        if not isinstance(item, Mapping) or set(item) != {"frame", "path"}:
            raise BridgeError(f"each reference must be {{frame: N, path: FILE}}, got {item!r}"[:300])
        if isinstance(item["frame"], bool) or not isinstance(item["frame"], int):
            raise BridgeError(f"reference frame must be a whole frame number, got {item['frame']!r}"[:300])
        out.append({"frame": item["frame"], "path": resolve(item["path"], "references.path")})
    return out


class Job:
    """One job on the server. Use from the thread that owns the ``Client``."""

    def __init__(self, client: "Client", job_id: str, mode: str, *, local: LocalShot | None = None):
        self.client = client
        self.id = job_id
        self.mode = mode
        self.local = local
        self.outcome: ev.JobOutcome | None = None

    def __repr__(self) -> str:
        return f"Job({self.id!r}, mode={self.mode!r})"

    # ------------------------------------------------------------ upload
    def upload(self, frames=None, roles=None, on_upload: Callable[[int, int], None] | None = None,
               references=()) -> None:
        """Stream mode: send the plates (and mattes, then references) the server still needs, a few in flight."""
        if self.local is None:
            raise BridgeError("pass the shot to attach() to upload its frames")
        if frames is None or roles is None:
            missing = self.status().missing
            todo = [(m.split(":", 1)[0], int(m.split(":", 1)[1])) for m in missing]
        else:
            todo = [(role, frame) for frame in frames for role in roles] + [("reference", f) for f in references]
        limits = self.client.welcome.limits if self.client.welcome else {}
        pending: set[str] = set()
        done = 0
        for role, frame in todo:
            path = self.local.input_path(role, frame)
            if not os.path.isfile(path):
                raise ImageError(f"{role} frame {frame} not found: {path}")
            image = read_exr(path)
            if image.pixels.nbytes > limits.get("max_frame_bytes", image.pixels.nbytes):
                raise LimitExceeded(f"{path} holds {image.pixels.nbytes} bytes of pixels; the server takes at most "
                                    f"{limits['max_frame_bytes']} per image (drop unused channels, or use shared mode)")
            msg = FrameUpload(frame=frame, role=role, data_window=list(image.data_window),
                              display_window=list(image.display_window or ()), attributes=image.attributes)
            pending.add(self.client.send(msg, job_id=self.id, pixels=[Pixels(image.pixels, image.channels)]))
            while len(pending) >= self.client.upload_window:
                done += self._ack(pending, len(todo), on_upload)
        while pending:
            done += self._ack(pending, len(todo), on_upload)

    def _ack(self, pending: set[str], total: int, on_upload) -> int:
        env = self.client.wait_reply(pending)
        pending.discard(env.parent_id)
        if on_upload is not None and isinstance(env.message, FrameAck):
            on_upload(env.message.received, env.message.expected)
        return 1

    # ------------------------------------------------------------ control
    def status(self) -> Status:
        return self.client.request(StatusRequest(), job_id=self.id).message

    def cancel(self) -> Status:
        """Ask the server to stop this job; a running job stops within seconds."""
        return self.client.request(Cancel(), job_id=self.id).message

    # ------------------------------------------------------------ events
    def events(self, timeout: float | None = None, *, fetch: bool = True) -> Iterator[ev.Event]:
        """Queued / Progress / Preview / Status / JobError events, then ``Done``.
        ``timeout``: overall seconds (``bridge.Timeout`` after). In stream mode the
        results are fetched and written before ``Done`` unless ``fetch`` is False."""
        deadline = None if timeout is None else time.monotonic() + timeout
        status = self.client.request(StatusRequest(attach=True), job_id=self.id).message
        self.client.drop_stale_status(self.id)  # the reply above is newer than any status already queued
        self.mode = status.mode or self.mode
        last = None
        while True:
            if (status.state, status.place) != last:
                yield self._status_event(status)
                last = (status.state, status.place)
            if status.state in TERMINAL_STATES:
                break
            while True:
                # ask again now and then: a status lost with a dropped connection is not waited for forever
                resync = time.monotonic() + max(2.0, self.client.timeout)
                env = self.client.next_event(self.id, resync if deadline is None else min(deadline, resync))
                if env is None:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise Timeout(f"job {self.id} did not finish within {timeout:g} s (it goes on; "
                                      "attach again later or cancel it)", job_id=self.id)
                    status = self.client.request(StatusRequest(attach=True), job_id=self.id).message
                    self.client.drop_stale_status(self.id)
                    break
                msg = env.message
                if isinstance(msg, Progress):
                    yield msg
                elif isinstance(msg, Preview):
                    yield ev.Preview(step=msg.step, frames={f: p.array for f, p in zip(msg.frames, env.pixels)})
                elif isinstance(msg, Status):
                    status = msg
                    break
        if status.state == "failed":
            yield ev.JobError(code=status.error_code or "job_failed", message=status.message)
        outputs: dict[int, str] = {}
        maps: dict[int, str] = {}
        if status.state == "done":
            if self.mode == "shared":
                outputs = dict(zip(status.output_frames, status.output_paths))
                maps = dict(zip(status.source_map_frames, status.source_map_paths))
            elif fetch and self.local is not None:
                want_map = bool(self.local.source_map and status.source_map_frames)
                outputs = self.fetch(status.output_frames, release=not want_map)
                if want_map:
                    maps = self.fetch(status.source_map_frames, kind="source_map")
        error = ev.ErrorInfo(status.error_code or status.state, status.message) if status.state != "done" else None
        self.outcome = ev.JobOutcome(job_id=self.id, status=status.state, output_paths=outputs, error=error,
                                     source_map_paths=maps)
        yield ev.Done(self.outcome)

    def _status_event(self, status: Status):
        if status.state == "queued":
            return ev.Queued(job_id=self.id, place=status.place)
        return status

    def wait(self, on_event: Callable[[Any], None] | None = None, timeout: float | None = None) -> ev.JobOutcome:
        """Block until the job ends; returns its ``JobOutcome`` (stream results written)."""
        for event in self.events(timeout=timeout):
            if on_event is not None:
                on_event(event)
        return self.outcome

    # ------------------------------------------------------------ results
    def fetch(self, frames=None, output: str | None = None, release: bool = True,
              kind: str = "result") -> dict[int, str]:
        """Stream mode: fetch result frames (``kind`` 'result') or source map frames
        ('source_map') and write them locally (atomically) to ``output`` (default: the
        shot's ``output``, or its ``source_map``). Returns frame -> path."""
        if kind not in FETCH_KINDS:
            raise BridgeError(f"kind must be one of {', '.join(FETCH_KINDS)}, got {kind!r}")
        pattern = output or (None if self.local is None else
                             self.local.output if kind == "result" else self.local.source_map)
        if pattern is None:
            raise BridgeError(f"no path for the {kind.replace('_', ' ')}: pass output= or a shot that names it "
                              "to attach()")
        if frames is None:
            status = self.status()
            frames = status.output_frames if kind == "result" else status.source_map_frames
        written: dict[int, str] = {}
        pending: dict[str, int] = {}
        compression = self.local.compression if self.local else "zip"
        queue = list(frames)
        while queue or pending:
            while queue and len(pending) < self.client.upload_window:
                frame = queue.pop(0)
                pending[self.client.send(Fetch(frame=frame, kind=kind), job_id=self.id)] = frame
            env = self.client.wait_reply(set(pending))
            pending.pop(env.parent_id, None)
            msg = env.message
            if not isinstance(msg, Result) or len(env.pixels) != 1 or msg.kind != kind:
                raise BridgeError(f"expected a {kind} frame, got '{env.msg_type}' ({getattr(msg, 'kind', '')})")
            px = env.pixels[0]
            image = Image(pixels=px.array, channels=px.channels, data_window=tuple(msg.data_window),
                          display_window=tuple(msg.display_window) if msg.display_window else None,
                          attributes=msg.attributes)
            written[msg.frame] = write_exr(frame_path(pattern, msg.frame), image, compression=compression)
        if release:
            self.client.request(Release(), job_id=self.id)
        return dict(sorted(written.items()))
