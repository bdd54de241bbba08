"""Several processes on one batch, as launched by ``torchrun --nproc_per_node N``.

The launcher's RANK / WORLD_SIZE / LOCAL_RANK say who we are; MASTER_ADDR / MASTER_PORT
say where to meet. Ranks meet twice over a gloo group (it needs no GPU and carries only
small Python objects): rank 0 hands everyone the same plan, and at the end everyone hands
rank 0 their summary, which doubles as the barrier before rank 0 merges the manifest parts.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar, cast

import torch
import torch.distributed as dist

from engine.batch.plan import BatchUsageError
from engine.errors import StylerError

T = TypeVar("T")
# Ranks wait for the slowest at the end; a batch can take days, and a crashed rank is
# the launcher's to clean up (torchrun stops the others), so the wait is long.
_WAIT = timedelta(days=7)


@dataclass(frozen=True)
class Shard:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Shard:
        env = dict(os.environ if env is None else env)
        try:
            world_size = int(env.get("WORLD_SIZE", "1"))
            rank = int(env.get("RANK", "0"))
            local_rank = int(env.get("LOCAL_RANK", str(rank)))
        except ValueError:
            raise BatchUsageError(
                "RANK, WORLD_SIZE and LOCAL_RANK must be integers (as torchrun sets them)"
            ) from None
        if world_size < 1 or not 0 <= rank < world_size or local_rank < 0:
            raise BatchUsageError(f"RANK={rank}, WORLD_SIZE={world_size}: the rank must be in 0..WORLD_SIZE-1")
        if world_size > 1 and not (env.get("MASTER_ADDR") and env.get("MASTER_PORT")):
            raise BatchUsageError(
                f"WORLD_SIZE={world_size} but MASTER_ADDR/MASTER_PORT are not set; launch with "
                "torchrun, or set them to where rank 0 listens"
            )
        return cls(rank=rank, world_size=world_size, local_rank=local_rank)

    def device(self, requested: str) -> str:
        """Each rank its own GPU (cuda:LOCAL_RANK) when 'auto' or 'cuda' was asked for."""
        if not self.distributed or requested not in ("auto", "cuda"):
            return requested
        if torch.cuda.is_available():
            return f"cuda:{self.local_rank % torch.cuda.device_count()}"
        return requested

    def join(self) -> None:
        if not self.distributed or dist.is_initialized():
            return
        try:
            dist.init_process_group("gloo", rank=self.rank, world_size=self.world_size, timeout=_WAIT)
        except (RuntimeError, ValueError) as exc:  # torch's DistNetworkError is a RuntimeError
            where = f"{os.environ.get('MASTER_ADDR')}:{os.environ.get('MASTER_PORT')}"
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise StylerError(f"rank {self.rank} cannot join the other ranks at {where} ({reason})") from None

    def leave(self) -> None:
        if self.distributed and dist.is_initialized():
            dist.destroy_process_group()

    def from_rank0(self, value: T | None) -> T:
        """Rank 0's ``value`` on every rank."""
        if not self.distributed:
            return cast(T, value)  # this process is rank 0, which passes the value
        box = [value]
        dist.broadcast_object_list(box, src=0)
        return cast(T, box[0])  # rank 0's value, never its None placeholder

    def gather(self, value: T) -> list[T]:
        """Every rank's ``value``, in rank order, on every rank; returns when all arrive."""
        if not self.distributed:
            return [value]
        values: list[T | None] = [None] * self.world_size
        dist.all_gather_object(values, value)
        return cast(list[T], values)  # every rank's value has replaced its None
