"""The server's spool: a SQLite job table plus one folder per job.

    SPOOL/jobs.sqlite3        the queue and every job's state
    SPOOL/jobs/<id>/in/       uploaded plates, mattes and references (stream mode)
    SPOOL/jobs/<id>/out/      results and source maps (stream mode)
    SPOOL/jobs/<id>/work/     the renderer's checkpoints

Everything needed to carry on after a crash is here: a restarted server puts
jobs that were running back at the head of the queue (they resume from their
checkpoint), then runs the queue in order.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_ID = re.compile(r"[0-9a-f]{32}")
ACTIVE = ("uploading", "queued", "running", "cancelling")
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, state TEXT NOT NULL, mode TEXT NOT NULL, owner TEXT NOT NULL,
    settings TEXT NOT NULL, expect TEXT NOT NULL, resume INTEGER NOT NULL DEFAULT 0, device TEXT,
    created REAL NOT NULL, updated REAL NOT NULL, finished REAL, fetched REAL, error TEXT, outputs TEXT);
CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, resume, seq);
CREATE TABLE IF NOT EXISTS uploads (
    job_id TEXT NOT NULL, role TEXT NOT NULL, frame INTEGER NOT NULL, shape TEXT NOT NULL,
    PRIMARY KEY (job_id, role, frame));
"""


@dataclass(frozen=True)
class JobRow:
    id: str
    seq: int
    state: str
    mode: str
    owner: str
    settings: dict
    expect: dict  # {"frames": [...], "roles": [...], "references": [...]}
    resume: bool
    device: str | None
    created: float
    updated: float
    finished: float | None
    fetched: float | None
    error: dict | None  # {"code", "message"}
    outputs: dict | None  # {"frames": [...], "paths": [...], "map_frames": [...], "map_paths": [...]}

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "JobRow":
        d = dict(row)
        for key in ("settings", "expect", "error", "outputs"):
            d[key] = json.loads(d[key]) if d[key] else None
        d["resume"] = bool(d["resume"])
        return cls(**d)


class Spool:
    """Thread-safe access to the job table (one connection, one lock)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        (self.root / "jobs").mkdir(parents=True, exist_ok=True)
        self.root.chmod(0o700)
        self._lock = threading.RLock()
        self._db = sqlite3.connect(self.root / "jobs.sqlite3", check_same_thread=False, isolation_level=None,
                                   timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def job_dir(self, job_id: str) -> Path:
        if not _ID.fullmatch(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.root / "jobs" / job_id

    # ------------------------------------------------------------ create / read
    def new_id(self) -> str:
        return uuid.uuid4().hex

    def create(self, job_id: str, *, mode: str, owner: str, settings: dict, expect: dict, state: str) -> JobRow:
        now = time.time()
        with self._lock:
            seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs").fetchone()[0]
            self._db.execute("INSERT INTO jobs (id, seq, state, mode, owner, settings, expect, created, updated) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                             (job_id, seq, state, mode, owner, json.dumps(settings), json.dumps(expect), now, now))
        return self.get(job_id)

    def get(self, job_id: Any) -> JobRow | None:
        if not isinstance(job_id, str) or not _ID.fullmatch(job_id):
            return None
        with self._lock:
            row = self._db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return JobRow.from_row(row) if row else None

    def count_active(self, owner: str | None = None) -> int:
        sql = f"SELECT COUNT(*) FROM jobs WHERE state IN ({','.join('?' * len(ACTIVE))})"
        args: tuple = ACTIVE
        if owner is not None:
            sql += " AND owner = ?"
            args = ACTIVE + (owner,)
        with self._lock:
            return self._db.execute(sql, args).fetchone()[0]

    def queue(self) -> list[str]:
        """Queued job ids in the order they will run (resumed jobs first)."""
        with self._lock:
            rows = self._db.execute("SELECT id FROM jobs WHERE state = 'queued' ORDER BY resume DESC, seq").fetchall()
        return [r[0] for r in rows]

    def place(self, job_id: str) -> int | None:
        q = self.queue()
        return q.index(job_id) + 1 if job_id in q else None

    # ------------------------------------------------------------ state changes
    def set_state(self, job_id: str, state: str, *, error: dict | None = None, outputs: dict | None = None,
                  device: str | None = None, resume: bool | None = None, requeue: bool = False) -> None:
        now = time.time()
        sets, args = ["state = ?", "updated = ?"], [state, now]
        if state in ("done", "failed", "cancelled", "expired"):
            sets.append("finished = COALESCE(finished, ?)")
            args.append(now)
        for column, value in (("error", error), ("outputs", outputs)):
            if value is not None:
                sets.append(f"{column} = ?")
                args.append(json.dumps(value))
        if device is not None:
            sets.append("device = ?")
            args.append(device)
        if resume is not None:
            sets.append("resume = ?")
            args.append(int(resume))
        if requeue:
            sets.append("seq = (SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs)")
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {', '.join(sets)} WHERE id = ?", (*args, job_id))

    def touch(self, job_id: str, column: str = "updated") -> None:
        sql = {"updated": "UPDATE jobs SET updated = ? WHERE id = ?",
               "fetched": "UPDATE jobs SET fetched = ? WHERE id = ?"}[column]
        with self._lock:
            self._db.execute(sql, (time.time(), job_id))

    def claim(self, device: str) -> JobRow | None:
        """Atomically move the next queued job to running on ``device``."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute("SELECT id FROM jobs WHERE state = 'queued' ORDER BY resume DESC, seq "
                                       "LIMIT 1").fetchone()
                if row is not None:
                    self._db.execute("UPDATE jobs SET state = 'running', device = ?, updated = ? WHERE id = ?",
                                     (device, time.time(), row[0]))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return self.get(row[0]) if row else None

    def request_cancel(self, job_id: str) -> None:
        """Mark a running job as cancelling (only if it is still running)."""
        with self._lock:
            self._db.execute("UPDATE jobs SET state = 'cancelling', updated = ? WHERE id = ? AND state = 'running'",
                             (time.time(), job_id))

    def recover(self) -> list[str]:
        """After a restart: jobs that were running go back to the head of the queue."""
        with self._lock:
            rows = self._db.execute("SELECT id, state FROM jobs WHERE state IN ('running', 'cancelling')").fetchall()
            for job_id, state in rows:
                if state == "cancelling":
                    self.set_state(job_id, "cancelled", error={"code": "cancelled", "message": "cancelled"})
                else:
                    self.set_state(job_id, "queued", resume=True)
        return [r[0] for r in rows if r[1] == "running"]

    # ------------------------------------------------------------ uploads
    def record_upload(self, job_id: str, role: str, frame: int, shape: list[int]) -> int:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO uploads VALUES (?, ?, ?, ?)",
                             (job_id, role, frame, json.dumps(shape)))
            self._db.execute("UPDATE jobs SET updated = ? WHERE id = ?", (time.time(), job_id))
            return self._db.execute("SELECT COUNT(*) FROM uploads WHERE job_id = ?", (job_id,)).fetchone()[0]

    def upload_shape(self, job_id: str) -> list[int] | None:
        """(H, W) of the first image uploaded for the job, if any."""
        with self._lock:
            row = self._db.execute("SELECT shape FROM uploads WHERE job_id = ? LIMIT 1", (job_id,)).fetchone()
        return json.loads(row[0])[:2] if row else None

    def missing(self, job: JobRow) -> list[str]:
        with self._lock:
            have = {(r, f) for r, f in self._db.execute("SELECT role, frame FROM uploads WHERE job_id = ?",
                                                        (job.id,))}
        wanted = [(role, frame) for frame in job.expect["frames"] for role in job.expect["roles"]]
        wanted += [("reference", frame) for frame in job.expect.get("references", ())]
        return [f"{role}:{frame}" for role, frame in wanted if (role, frame) not in have]

    # ------------------------------------------------------------ clean-up
    def drop_files(self, job_id: str, *parts: str) -> None:
        base = self.job_dir(job_id)
        for part in parts or ("",):
            shutil.rmtree(base / part if part else base, ignore_errors=True)

    def expire(self, result_ttl: float, upload_ttl: float) -> list[str]:
        """Expire finished jobs older than ``result_ttl`` and uploads idle past ``upload_ttl``."""
        now = time.time()
        with self._lock:
            rows = self._db.execute(
                "SELECT id FROM jobs WHERE (state IN ('done', 'failed', 'cancelled') AND finished < ?) "
                "OR (state = 'uploading' AND updated < ?)", (now - result_ttl, now - upload_ttl)).fetchall()
            for (job_id,) in rows:
                self.set_state(job_id, "expired")
                self._db.execute("DELETE FROM uploads WHERE job_id = ?", (job_id,))
            # forget expired jobs entirely after a week (until then their status says "expired")
            self._db.execute("DELETE FROM jobs WHERE state = 'expired' AND updated < ?", (now - 7 * 86400,))
        for (job_id,) in rows:
            self.drop_files(job_id)
        return [r[0] for r in rows]
