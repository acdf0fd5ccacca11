"""A painted reference and the source map through ``renderer render``: real EXRs on disk,
the real CLI."""

from __future__ import annotations

import numpy as np
from renderer_helpers import make_shot, read_exr, run_cli, write_exr


def painted(shot, frame: int, value: float = 0.3):
    """The plate of ``frame`` with its hole painted a flat ``value``, as a separate EXR."""
    px, spec = read_exr(shot.plate(frame))
    px = px.copy()
    px[shot.holes[frame], :3] = value
    path = shot.root / "clean" / f"ref.{frame}.exr"
    write_exr(path, px, tuple(spec.channelnames), origin=(spec.x, spec.y),
              display=(spec.full_x, spec.full_y, spec.full_width, spec.full_height))
    return path


def test_a_painted_frame_comes_out_as_painted_and_the_source_map_says_where_pixels_came_from(tmp_path):
    shot = make_shot(tmp_path / "s", n=5, preset="standard", steps=2, expand=0, feather=0,
                     source_map="out/map.####.exr", grain="off")
    ref = painted(shot, 1003)
    shot.config["references"] = [{"frame": 1003, "path": str(ref)}]
    shot.write_config()
    proc = run_cli("render", shot.shot_file)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out, _ = read_exr(shot.out(1003))
    hole = shot.holes[1003]
    assert np.array_equal(out[hole, :3], np.full((hole.sum(), 3), 0.3, np.float16).astype(np.float32))
    for f in shot.frames:
        m, spec = read_exr(shot.root / "out" / f"map.{f}.exr")
        assert tuple(spec.channelnames) == ("R", "G", "B", "A", "distance")
        plate_spec = read_exr(shot.plate(f))[1]
        assert (spec.x, spec.y, spec.width, spec.height) == (plate_spec.x, plate_spec.y, plate_spec.width,
                                                             plate_spec.height), "the plate's data window"
        inside = m[shot.holes[f]]
        assert (inside[:, :3].sum(axis=1) == 1).all(), "one kind for every hole pixel"
        assert (m[~shot.holes[f]][:, :4] == (0, 0, 0, 1)).all(), "known pixels are known"
    m, _ = read_exr(shot.root / "out" / "map.1003.exr")
    assert (m[hole][:, 2] == 1).all() and (m[hole][:, 3] == 1).all(), "the painted frame: from the reference"


def test_a_reference_of_another_size_or_outside_the_range_is_refused_with_one_line(tmp_path):
    shot = make_shot(tmp_path / "s", n=3, preset="standard", steps=2)
    small = shot.root / "clean" / "small.exr"
    write_exr(small, np.zeros((8, 8, 4), np.float32), ("R", "G", "B", "A"))
    shot.config["references"] = [{"frame": 1002, "path": str(small)}]
    shot.write_config()
    proc = run_cli("render", shot.shot_file)
    assert proc.returncode == 3 and "plate's size" in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    shot.config["references"] = [{"frame": 2002, "path": str(small)}]
    shot.write_config()
    proc = run_cli("render", shot.shot_file)
    assert proc.returncode == 2 and "outside the shot's frames" in proc.stderr, proc.stderr
    assert not shot.out(1001).exists(), "nothing written"
