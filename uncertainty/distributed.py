"""Joining a multi-host JAX run: ``jax.distributed.initialize``, only when the user asks.

After it, ``jax.devices()`` lists every device of every process; :mod:`uncertainty.streaming`
shards chunks over all of them and sums the statistics on every process, so each computes the
same summary (process 0 writes the report). On CPUs, JAX's gloo collectives carry the sums.
"""

from __future__ import annotations

import os

import jax

from .errors import UserError

__all__ = ["initialize", "requested"]


def requested(coordinator: str | None, num_processes: int | None, process_id: int | None) -> bool:
    """True when flags or JAX's own variable (``JAX_COORDINATOR_ADDRESS``) ask for a multi-host
    run."""
    return any(v is not None for v in (coordinator, num_processes, process_id)) or bool(
        os.environ.get("JAX_COORDINATOR_ADDRESS"))


def initialize(coordinator: str | None = None, num_processes: int | None = None,
               process_id: int | None = None) -> bool:
    """Start JAX's distributed runtime if asked; return whether it was started.

    With flags, all three are needed. With only ``JAX_COORDINATOR_ADDRESS`` set, JAX reads the
    process count and rank from the cluster it detects (SLURM, Open MPI, Kubernetes, ...)."""
    if not requested(coordinator, num_processes, process_id):
        return False
    given = [coordinator is not None, num_processes is not None, process_id is not None]
    if any(given) and not all(given):
        raise UserError("a multi-host run needs --coordinator, --num-processes and --process-id "
                        "together")
    if num_processes is not None and not 0 <= process_id < num_processes:
        raise UserError(f"--process-id must be in [0, {num_processes}), got {process_id}")
    if jax.distributed.is_initialized():
        return True
    try:
        jax.distributed.initialize(coordinator_address=coordinator, num_processes=num_processes,
                                   process_id=process_id)
    except (RuntimeError, ValueError) as err:
        raise UserError(f"could not join the multi-host run at {coordinator}: {err}") from None
    return True
