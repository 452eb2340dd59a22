"""The ``ray`` backend's entry in the registry: it needs the optional extra ``genlab[ray]`` (Ray Tune), so the
implementation (:mod:`genlab.study.ray_tune`) is imported only when a study asks for it."""

from __future__ import annotations

from genlab.errors import GenlabError
from genlab.study.backend import BACKENDS, Backend
from genlab.study.spec import Resources, Scheduler

INSTALL = "pip install 'genlab[ray]'"


@BACKENDS.register("ray")
def ray_backend(
    jobs: int | None = None,
    resources: Resources | None = None,
    address: str | None = None,
    scheduler: Scheduler | None = None,
) -> Backend:
    try:
        import ray.tune  # noqa: F401  (is it installed?)
    except ImportError as exc:
        raise GenlabError(f"--backend ray needs Ray Tune, which is not installed ({exc}): {INSTALL}") from None
    from genlab.study.ray_tune import RayBackend

    return RayBackend(jobs, resources or Resources(), address, scheduler)
