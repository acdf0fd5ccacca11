"""Data-parallel training of one shot under ``torchrun`` (DistributedDataParallel).

torchrun sets RANK / WORLD_SIZE / MASTER_ADDR / MASTER_PORT; every rank builds
the same data, takes its own share of batches (its own shuffle of the batch
plan), and gradients are averaged by DDP. Rank 0 alone writes checkpoints and
frames. A restarted worker group resumes from rank 0's last checkpoint.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist


def world() -> tuple[int, int]:
    """(rank, world size) from torchrun's environment; (0, 1) outside it."""
    return int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))


def is_main() -> bool:
    return world()[0] == 0


def start(device: torch.device) -> bool:
    """Join the process group when launched with several ranks. Returns True if distributed."""
    rank, size = world()
    if size <= 1:
        return False
    if not dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        dist.init_process_group(backend=backend)
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return True


def wrap(model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
    from torch.nn.parallel import DistributedDataParallel

    if device.type == "cuda":
        return DistributedDataParallel(model, device_ids=[device.index or 0])
    return DistributedDataParallel(model)


def barrier() -> None:
    if dist.is_initialized():
        dist.barrier()


def stop() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
