"""References and the source map through the server (real loopback sockets, the fake job
function, so each test takes a second or two): uploads, the shot the renderer gets, the
map's frames coming back, and refusals that leave the server serving."""

from __future__ import annotations

from pathlib import Path

import msgpack
import numpy as np
import pytest

from bridge import Client
from bridge.errors import BadShot, BufferMismatch, LimitExceeded, PathRefused, WrongFieldType
from bridge.imageio import Image, read_exr, write_exr
from bridge.messages import Fetch, FrameUpload, Submit
from bridge.testing import RawPeer
from bridge.wire import Limits, Pixels
from serve_kit import FRAMES, SIZE, background, check_result, hole_mask, write_shot

GOLDEN = Path(__file__).resolve().parents[1] / "bridge" / "golden"
PAINT = (0.1, 0.8, 0.1)  # what the artist painted into the hole on the reference frame
REF_FRAME = 1003


def write_reference(folder, frame=REF_FRAME, size=SIZE) -> str:
    """A clean frame as an artist paints it: the whole frame, the hole painted over."""
    rgb = background(frame, *size)
    rgb[hole_mask(size)] = PAINT
    path = folder / f"clean/ref.{frame}.exr"
    write_exr(path, Image(np.dstack([rgb, np.ones(size, np.float32)]).astype(np.float16), ("R", "G", "B", "A")))
    return str(path)


def check_reference_used(result: str, frame: int = REF_FRAME) -> None:
    rgb = read_exr(result).pixels[..., :3].astype(np.float32)
    hole = hole_mask(rgb.shape[:2])
    assert np.allclose(rgb[hole], PAINT, atol=2e-3), "the painted reference did not reach the renderer"
    assert np.allclose(rgb[~hole], background(frame, *rgb.shape[:2])[~hole], atol=2e-3)


def check_map(path: str, *, from_reference: bool) -> None:
    """The map of one frame: the channels of the renderer's contract, blue in the hole where a
    reference gave the pixels (red where they were carried), known pixels R=G=B=0, A=1."""
    img = read_exr(path)
    assert img.channels == ("R", "G", "B", "A", "distance")
    hole = hole_mask(img.pixels.shape[:2])
    px = img.pixels.astype(np.float32)
    assert np.all(px[~hole, :3] == 0) and np.all(px[..., 3] == 1)
    assert np.all(px[hole, 2 if from_reference else 0] == 1)


def test_stream_carries_references_and_brings_the_map_back(start_server, fake, tmp_path):
    server = start_server(runner=fake)
    folder = tmp_path / "artist"
    shot = dict(write_shot(folder), references=[{"frame": REF_FRAME, "path": write_reference(folder)}],
                source_map="qc/where.####.exr", grain="off")
    acks = []
    with Client(server.endpoint, timeout=5) as client:
        job = client.submit(shot, base_dir=folder, overrides={"steps": 2}, on_upload=lambda d, t: acks.append((d, t)))
        outcome = job.wait()
    assert outcome.ok
    assert acks[-1] == (len(FRAMES) * 2 + 1,) * 2  # plates, mattes and the one reference
    for frame in FRAMES:
        result = outcome.output_paths[frame]
        check_reference_used(result) if frame == REF_FRAME else check_result(result, frame)
        assert outcome.source_map_paths[frame] == str(folder / "qc" / f"where.{frame}.exr")
        check_map(outcome.source_map_paths[frame], from_reference=frame == REF_FRAME)
    # the renderer got the reference from the job's folder, the map in its out folder, and grain as asked
    seen = fake.calls[0]["shot"]
    job_dir = server.spool.job_dir(job.id)
    assert [(r.frame, r.path) for r in seen.references] == [(REF_FRAME, str(job_dir / "in" / "reference.1003.exr"))]
    assert seen.source_map == str(job_dir / "out" / "source_map.####.exr") and seen.grain == "off"
    # fetching the map again, by job id, to another place (the same way results are fetched again)
    with Client(server.endpoint, timeout=5) as client:
        again = client.attach(job.id).fetch([REF_FRAME], output=str(tmp_path / "again.####.exr"), kind="source_map")
    assert np.array_equal(read_exr(again[REF_FRAME]).pixels, read_exr(outcome.source_map_paths[REF_FRAME]).pixels)


def test_without_source_map_no_map_is_made_or_fetched(start_server, fake, tmp_path):
    server = start_server(runner=fake)
    shot = write_shot(tmp_path / "a")
    with Client(server.endpoint, timeout=5) as client:
        job = client.submit(shot, base_dir=tmp_path / "a", overrides={"steps": 1})
        outcome = job.wait()
        assert outcome.ok and outcome.source_map_paths == {} and job.status().source_map_frames == []
        with pytest.raises(WrongFieldType, match="has no source map: submit the shot with source_map set"):
            client.request(Fetch(frame=1001, kind="source_map"), job_id=job.id)
        with pytest.raises(WrongFieldType, match="fetch kind must be one of result, source_map"):
            client.request(Fetch(frame=1001, kind="matte"), job_id=job.id)
    assert fake.calls[0]["shot"].source_map is None and fake.calls[0]["shot"].references == ()


def test_shared_mode_reads_references_and_writes_the_map_at_their_paths(start_server, fake, tmp_path):
    root = tmp_path / "shared"
    folder = root / "sh010"
    reference = write_reference(folder)
    shot = dict(write_shot(folder), references=[{"frame": REF_FRAME, "path": reference}], source_map="qc/m.####.exr")
    server = start_server(runner=fake, shared_roots=(str(root),))
    with Client(server.endpoint, timeout=5) as client:
        outcome = client.submit(shot, mode="shared", base_dir=folder, overrides={"steps": 1}).wait()
        assert outcome.ok
        check_reference_used(outcome.output_paths[REF_FRAME])
        assert outcome.source_map_paths == {f: str(folder / "qc" / f"m.{f}.exr") for f in FRAMES}
        check_map(outcome.source_map_paths[REF_FRAME], from_reference=True)
        assert [r.path for r in fake.calls[0]["shot"].references] == [reference]

        outside = write_reference(tmp_path / "private")
        for bad in ({"references": [{"frame": REF_FRAME, "path": outside}]},
                    {"source_map": str(tmp_path / "private" / "m.####.exr")}):
            with pytest.raises(PathRefused, match="outside the shared roots"):
                client.submit(dict(shot, **bad), mode="shared", base_dir=folder)
        with pytest.raises(BadShot, match="source_map .* is also the shot's source, matte or output"):
            client.submit(dict(shot, source_map="out/result.####.exr"), mode="shared", base_dir=folder)
    assert len(fake.calls) == 1


def test_bad_references_are_refused_and_the_server_goes_on(start_server, fake, tmp_path):
    server = start_server(runner=fake, limits=Limits(max_references=2))
    folder = tmp_path / "a"
    shot = write_shot(folder)
    reference = write_reference(folder)
    small = write_reference(tmp_path / "small", size=(32, 32))
    with Client(server.endpoint, timeout=5) as client:
        with pytest.raises(BadShot, match="reference frame 1010 is outside the shot's frames 1001-1006"):
            client.submit(dict(shot, references=[{"frame": 1010, "path": reference}]), base_dir=folder)
        with pytest.raises(BufferMismatch, match="reference frame 1003 is 32x32 but the plates of this shot are "
                                                 "64x64: paint the reference on the whole frame"):
            client.submit(dict(shot, references=[{"frame": REF_FRAME, "path": small}]), base_dir=folder)
        client.hello()
        for refs, error, words in (
                ("ref.exr", BadShot, "must be a list of"),
                ([{"frame": "1003", "path": "r.exr"}], BadShot, "frame: whole number"),
                ([{"frame": 1003, "path": "r.exr", "note": "x"}], BadShot, "must be a list of"),
                ([{"frame": f, "path": "r.exr"} for f in FRAMES[:3]], LimitExceeded, "at most 2 per job")):
            with pytest.raises(error, match=words):
                client.request(Submit(mode="stream", shot=dict(shot, references=refs)))
        # an upload of a reference the shot does not have is refused by name
        accepted = client.request(Submit(mode="stream", shot=dict(shot, output="o.####.exr"))).message
        assert accepted.references == []
        px = [Pixels(np.zeros((*SIZE, 4), np.float16), tuple("RGBA"))]
        with pytest.raises(WrongFieldType, match="frame 1002 has no reference in the shot"):
            client.request(FrameUpload(frame=1002, role="reference"), job_id=accepted.job_id, pixels=px)
        # ... and the same server still renders a good shot with a reference
        good = dict(shot, references=[{"frame": REF_FRAME, "path": reference}])
        outcome = client.submit(good, base_dir=folder, overrides={"steps": 1}).wait()
    assert outcome.ok
    check_reference_used(outcome.output_paths[REF_FRAME])
    assert server.spool.count_active() == 1  # only the half-made job above; the refused uploads were cancelled


def test_a_1_0_client_is_refused_naming_both_versions(start_server):
    """The bytes a 1.0 client sends for hello (tests/bridge/golden/hello.v1.msgpack)."""
    server = start_server()
    hello = msgpack.unpackb((GOLDEN / "hello.v1.msgpack").read_bytes())
    with RawPeer(server.endpoint) as peer:
        peer.send_frames(hello)
        reply = peer.recv()
    assert reply.message.code == "version_mismatch" and reply.parent_id == "0" * 32
    assert "the client speaks bridge protocol 1.0 but this server speaks 2.0" in reply.message.message
