"""What ``Job.events()`` yields, and what ``Job.wait()`` returns.

``Progress`` and ``Status`` are the protocol messages themselves; ``Queued``,
``Preview``, ``JobError`` and ``Done`` are made by the client.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping

import numpy as np

from .errors import JobCancelled, JobFailed
from .messages import Progress, Status

__all__ = ["Queued", "Progress", "Preview", "Status", "Uploaded", "JobError", "Done", "JobOutcome", "ErrorInfo"]


@dataclass(frozen=True)
class Queued:
    """The job waits its turn; ``place`` 1 runs next."""

    job_id: str
    place: int | None


@dataclass(frozen=True)
class Uploaded:
    """Stream mode: ``done`` of ``total`` input images are on the server."""

    done: int
    total: int


@dataclass(frozen=True)
class Preview:
    """Inpainted frames while training: frame number -> scene-linear (h, w, 3)."""

    step: int
    frames: Mapping[int, np.ndarray]


@dataclass(frozen=True)
class ErrorInfo:
    code: str
    message: str


@dataclass(frozen=True)
class JobError:
    """The job failed on the server (``Done`` follows)."""

    code: str
    message: str


@dataclass(frozen=True)
class JobOutcome:
    """How a job ended. ``output_paths``: frame -> path (local in stream mode,
    on shared storage in shared mode); ``source_map_paths`` the same for the source
    map, when the shot asked for one."""

    job_id: str
    status: str  # done, failed, cancelled, expired
    output_paths: dict[int, str] = field(default_factory=dict)
    error: ErrorInfo | None = None
    source_map_paths: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "done"

    def raise_for_status(self) -> "JobOutcome":
        """Raise ``JobFailed``/``JobCancelled`` unless the job is done."""
        if self.status == "cancelled":
            raise JobCancelled(f"job {self.job_id} was cancelled", job_id=self.job_id)
        if self.status != "done":
            err = self.error or ErrorInfo("job_failed", f"the job ended as {self.status}")
            raise JobFailed(f"job {self.job_id} failed ({err.code}): {err.message}", job_id=self.job_id)
        return self


@dataclass(frozen=True)
class Done:
    """Last event of a job: its outcome (stream-mode results already written)."""

    outcome: JobOutcome


Event = Queued | Uploaded | Progress | Preview | Status | JobError | Done
