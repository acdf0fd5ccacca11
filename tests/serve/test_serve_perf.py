"""Throughput of 2K half-float RGBA frame upload on loopback, and progress latency.
Run with -s to see the numbers; the asserts are loose floors (shared CI machines)."""

from __future__ import annotations

import statistics
import time

import numpy as np
import zmq

from bridge import Client
from bridge.imageio import Image, write_exr
from bridge.messages import Result, StatusRequest
from bridge.wire import Pixels, decode, encode
from serve_kit import FakeRunner

W, H, FRAMES = 2048, 1080, 6
FRAME_MB = W * H * 4 * 2 / 1e6


def test_wire_throughput_2k_half_rgba():
    """Protocol only (encode, send, receive, validate): tcp loopback, no disk."""
    ctx = zmq.Context()
    router, dealer = ctx.socket(zmq.ROUTER), ctx.socket(zmq.DEALER)
    router.bind("tcp://127.0.0.1:*")
    dealer.connect(router.last_endpoint.decode())
    plate = np.ones((H, W, 4), np.float16)
    n = 20
    t0 = time.perf_counter()
    for i in range(n):
        dealer.send_multipart(encode(Result(frame=i), pixels=[Pixels(plate, tuple("RGBA"))]), copy=False)
        env = decode(router.recv_multipart(copy=False)[1:])
        assert env.pixels[0].array.shape == (H, W, 4)
    rate = n * FRAME_MB / (time.perf_counter() - t0)
    ctx.destroy(linger=0)
    print(f"\nwire: {rate:.0f} MB/s for 2K half RGBA frames ({FRAME_MB:.1f} MB each)")
    assert rate > 100


def test_upload_throughput_and_progress_latency(start_server, tmp_path):
    runner = FakeRunner(step_time=0.02, default_steps=60)
    server = start_server(runner=runner)
    folder = tmp_path / "plates"
    plate = np.random.default_rng(0).random((H, W, 4)).astype(np.float16)
    for f in range(1001, 1001 + FRAMES):
        write_exr(folder / f"plate.{f}.exr", Image(plate, tuple("RGBA")), compression="none")
    shot = {"source": "plate.####.exr", "output": "out/r.####.exr", "frames": f"1001-{1000 + FRAMES}",
            "mask": {"channel": "A"}}
    with Client(server.endpoint, timeout=10) as client:
        client.hello()
        t0 = time.perf_counter()
        job = client.submit(shot, base_dir=folder)  # reads each EXR, uploads it, the server writes it to its spool
        upload = FRAMES * FRAME_MB / (time.perf_counter() - t0)
        client.request(StatusRequest(attach=True), job_id=job.id)
        latencies = []
        deadline = time.monotonic() + 30
        while True:
            env = client.next_event(job.id, deadline)
            assert env is not None
            if env.msg_type == "progress":
                latencies.append(time.time() - env.sent_at)  # the callback's moment -> the client has it
            if env.msg_type == "status" and env.message.state == "done":
                break
    median, p95 = statistics.median(latencies), sorted(latencies)[int(0.95 * len(latencies))]
    print(f"\nupload (read EXR + send + server writes EXR): {upload:.0f} MB/s; "
          f"progress latency median {1000 * median:.1f} ms, p95 {1000 * p95:.1f} ms over {len(latencies)} events")
    assert len(latencies) == 60 and upload > 20 and median < 0.1
