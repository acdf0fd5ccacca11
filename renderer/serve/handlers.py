"""What the server does with each client message (one method per message type).

Every handler returns the reply (a message, or ``(message, pixels)``) or
raises a ``BridgeError`` that becomes an ``error`` reply. None of them block
for long: rendering happens on worker threads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from bridge.errors import BufferMismatch, HelloRequired, LimitExceeded, OutOfOrder, UnknownJob, WrongFieldType
from bridge.imageio import Image, check_attributes, read_exr, write_exr
from bridge.messages import (FETCH_KINDS, PROTOCOL_VERSION, TERMINAL_STATES, Accepted, Fetch, FrameAck, FrameUpload,
                             Heartbeat, Result, Submit, Welcome)
from bridge.sequence import frame_path
from bridge.wire import Envelope, Pixels

from .. import __version__
from .jobs import build_job, expected_uploads, status_of
from .confine import confine
from .spool import JobRow

UPLOAD_DTYPES = ("float16", "float32")
MAX_COORD = 1_000_000


@dataclass
class Peer:
    """One client connection (by ZeroMQ identity)."""

    identity: bytes
    owner: str  # the CURVE public key, or "local" without CURVE
    hello: bool = False
    minor: int = PROTOCOL_VERSION[1]
    last_seen: float = 0.0


class Handlers:
    """Mixed into ``Server``; uses its spool, config, subscriptions and workers."""

    def handler_for(self, msg_type: str):
        return {
            "hello": self.on_hello, "heartbeat": self.on_heartbeat, "submit": self.on_submit,
            "frame": self.on_frame, "status_request": self.on_status_request, "cancel": self.on_cancel,
            "fetch": self.on_fetch, "release": self.on_release,
        }[msg_type]

    # ------------------------------------------------------------ session
    def on_hello(self, peer: Peer, env: Envelope):
        peer.hello, peer.minor = True, env.protocol[1]
        return Welcome(server=f"renderer {__version__}", protocol=list(PROTOCOL_VERSION), modes=self.modes(),
                       limits=self.config.limits.to_wire(),
                       heartbeat_interval=min(self.config.heartbeat_interval, self.config.client_timeout / 3),
                       devices=list(self.config.devices))

    def on_heartbeat(self, peer: Peer, env: Envelope):
        return Heartbeat()

    def modes(self) -> list[str]:
        return ["stream", "shared"] if self.config.shared_roots else ["stream"]

    def _need_hello(self, peer: Peer, env: Envelope) -> None:
        if not peer.hello:
            raise HelloRequired(f"send 'hello' first: '{env.msg_type}' came before the protocol was negotiated")

    def _job(self, peer: Peer, env: Envelope) -> JobRow:
        self._need_hello(peer, env)
        job = self.spool.get(env.job_id)
        if job is None or job.owner != peer.owner:
            raise UnknownJob(f"no job {env.job_id[:40]!r} on this server for you: it never existed, it expired, "
                             "or it was submitted with another client key")
        return job

    # ------------------------------------------------------------ jobs
    def on_submit(self, peer: Peer, env: Envelope):
        self._need_hello(peer, env)
        msg: Submit = env.message
        if msg.mode not in self.modes():
            hint = "; start it with --shared-root DIR for shared mode" if msg.mode == "shared" else ""
            raise WrongFieldType(f"this server offers {' and '.join(self.modes())} mode, not {msg.mode[:32]!r}{hint}")
        if self.spool.count_active() >= self.config.max_active_jobs:
            raise LimitExceeded(f"the server already has {self.config.max_active_jobs} jobs; try again later")
        if self.spool.count_active(peer.owner) >= self.config.max_jobs_per_owner:
            raise LimitExceeded(f"you already have {self.config.max_jobs_per_owner} unfinished jobs here; "
                                "wait for some to finish or cancel them")
        job_id = self.spool.new_id()
        job_dir = self.spool.job_dir(job_id)
        settings, expect, shot = build_job(msg, job_dir, self.config)
        state = "uploading" if msg.mode == "stream" else "queued"
        for sub in ("in", "out", "work"):
            (job_dir / sub).mkdir(parents=True, exist_ok=True)
        self.spool.create(job_id, mode=msg.mode, owner=peer.owner, settings=settings, expect=expect, state=state)
        self.subscribe(job_id, peer.identity)
        if state == "queued":
            self.job_queued(job_id)
        self.log.info("job %s: submitted (%s, %d frames) by %s", job_id, msg.mode, len(shot.frames), peer.owner)
        return Accepted(job_id=job_id, state=state, frames=expect["frames"], roles=expect["roles"],
                        place=self.spool.place(job_id), references=expect["references"])

    def on_frame(self, peer: Peer, env: Envelope):
        job = self._job(peer, env)
        msg: FrameUpload = env.message
        if job.state != "uploading":
            raise OutOfOrder(f"job {job.id} is {job.state}: it takes frames only while uploading")
        references = job.expect.get("references", [])
        if msg.role == "reference":
            if msg.frame not in references:
                raise WrongFieldType(f"frame {msg.frame} has no reference in the shot (its references: "
                                     f"{', '.join(map(str, references)) or 'none'})")
        elif msg.role not in job.expect["roles"]:
            roles = job.expect["roles"] + (["reference"] if references else [])
            raise WrongFieldType(f"role must be one of {roles}, got {msg.role[:32]!r}")
        elif msg.frame not in job.expect["frames"]:
            raise WrongFieldType(f"frame {msg.frame} is not in the shot's frames")
        px = env.pixels[0]
        height, width, _ = px.array.shape
        if px.array.dtype.name not in UPLOAD_DTYPES:
            raise BufferMismatch(f"plates, mattes and references travel as half or float, not {px.array.dtype.name}")
        first = self.spool.upload_shape(job.id)
        if first is not None and first != [height, width] and msg.role == "reference":
            raise BufferMismatch(f"reference frame {msg.frame} is {width}x{height} but the plates of this shot are "
                                 f"{first[1]}x{first[0]}: paint the reference on the whole frame, at the plate's size")
        if first is not None and first != [height, width]:
            raise BufferMismatch(f"{msg.role} {msg.frame} is {width}x{height} but earlier images of this shot were "
                                 f"{first[1]}x{first[0]}: every plate and matte of a shot must be one size")
        if not all(abs(v) <= MAX_COORD for v in msg.data_window + msg.display_window) \
                or len(msg.data_window) != 2 or len(msg.display_window) not in (0, 4) \
                or (msg.display_window and min(msg.display_window[2:]) < 1):
            raise WrongFieldType("data_window is [x, y]; display_window is [] or [x, y, width, height] "
                                 "with width, height >= 1")
        check_attributes(msg.attributes)
        shot = job.settings["shot"]
        if msg.role == "reference":
            name = next(r["path"] for r in shot["references"] if r["frame"] == msg.frame)
        else:
            name = frame_path(shot["source"] if msg.role == "plate" else shot["mask"]["path"], msg.frame)
        job_dir = self.spool.job_dir(job.id)
        path = confine(str(job_dir / name), (os.path.realpath(job_dir / "in"),), "upload")
        image = Image(pixels=px.array, channels=px.channels, data_window=tuple(msg.data_window),
                      display_window=tuple(msg.display_window) or None, attributes=msg.attributes)
        write_exr(path, image, compression="none")
        received = self.spool.record_upload(job.id, msg.role, msg.frame, [height, width])
        expected = expected_uploads(job.expect)
        if received >= expected:
            self.spool.set_state(job.id, "queued")
            self.job_queued(job.id)
            self.log.info("job %s: all %d images uploaded; queued", job.id, expected)
        return FrameAck(frame=msg.frame, role=msg.role, received=received, expected=expected)

    def on_status_request(self, peer: Peer, env: Envelope):
        job = self._job(peer, env)
        if env.message.attach:
            self.subscribe(job.id, peer.identity)
        return status_of(job, self.spool)

    def on_cancel(self, peer: Peer, env: Envelope):
        job = self._job(peer, env)
        if job.state in ("uploading", "queued"):
            self.spool.set_state(job.id, "cancelled", error={"code": "cancelled", "message": "cancelled"})
            self.spool.drop_files(job.id, "in", "work")
            self.state_changed(job.id, notify=False)
        elif job.state == "running":
            self.spool.request_cancel(job.id)
            flag = self.cancels.get(job.id)
            if flag is not None:
                flag.set()
        self.log.info("job %s: cancel requested (was %s)", job.id, job.state)
        return status_of(self.spool.get(job.id), self.spool)

    def on_fetch(self, peer: Peer, env: Envelope):
        job = self._job(peer, env)
        msg: Fetch = env.message
        if job.mode != "stream":
            raise OutOfOrder(f"job {job.id} ran in shared mode: its results are on shared storage "
                             "(see output_paths in its status)")
        if job.state != "done":
            raise OutOfOrder(f"job {job.id} is {job.state}; fetch its results once it is done")
        if msg.kind not in FETCH_KINDS:
            raise WrongFieldType(f"fetch kind must be one of {', '.join(FETCH_KINDS)}, got {msg.kind[:32]!r}")
        is_map = msg.kind == "source_map"
        frames = (job.outputs or {}).get("map_frames" if is_map else "frames", [])
        if is_map and not frames:
            raise WrongFieldType(f"job {job.id} has no source map: submit the shot with source_map set to get one")
        if msg.frame not in frames:
            raise WrongFieldType(f"frame {msg.frame} is not among the job's {msg.kind.replace('_', ' ')} frames "
                                 f"({len(frames)} frames)")
        job_dir = self.spool.job_dir(job.id)
        pattern = job.settings["shot"]["source_map" if is_map else "output"]
        path = confine(str(job_dir / frame_path(pattern, msg.frame)), (os.path.realpath(job_dir / "out"),), "result")
        if not Path(path).is_file():
            raise UnknownJob(f"the {msg.kind.replace('_', ' ')} of job {job.id} frame {msg.frame} is gone (expired); "
                             "submit again")
        image = read_exr(path)
        reply = Result(frame=msg.frame, data_window=list(image.data_window), kind=msg.kind,
                       display_window=list(image.display_window or ()), attributes=image.attributes)
        return reply, [Pixels(image.pixels, image.channels)]

    def on_release(self, peer: Peer, env: Envelope):
        job = self._job(peer, env)
        if job.state in TERMINAL_STATES:
            self.spool.drop_files(job.id, "in", "work")
            self.spool.touch(job.id, "fetched")
        return status_of(job, self.spool)
