"""Join or start a Ray cluster for one run; shut down only what this run started."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)


def loopback_only() -> None:
    """Make a local cluster started from this process bind to 127.0.0.1.

    Ray replaces a loopback ``_node_ip_address`` with the machine's routable address unless
    its cluster mode is off (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0``, read when Ray is
    imported): set it for this process and the Ray processes it starts, and in the already
    imported constant."""
    import sys

    os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
    consts = sys.modules.get("ray._private.ray_constants")
    if consts is not None:
        consts.ENABLE_RAY_CLUSTER = False


def start_local(num_cpus: int | None = None) -> None:
    """``ray.init`` of a local cluster on 127.0.0.1 with the dashboard off."""
    loopback_only()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    import ray

    ray.init(num_cpus=num_cpus, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)


@contextlib.contextmanager
def ray_session(address: str | None = "local", *, num_cpus: int | None = None) -> Iterator[Any]:
    """Yield the ``ray`` module with a connected cluster.

    - Ray already initialised in this process (a notebook, a test session): used as it is;
    - ``'local'``: join ``$RAY_ADDRESS`` when set, else start a local cluster bound to
      127.0.0.1 (dashboard off, ``num_cpus`` CPUs: default all of this machine's);
    - ``'auto'``, ``HOST:PORT``, ``ray://HOST:PORT``: join that cluster.

    A cluster started here is shut down on exit; a joined one is only disconnected from.
    """
    import ray

    if ray.is_initialized():
        yield ray
        return
    env = os.environ.get("RAY_ADDRESS")
    if address in (None, "local") and not env:
        log.info("ray: starting a local cluster on 127.0.0.1")
        start_local(num_cpus)
    else:
        target = env if address in (None, "local") else address
        log.info("ray: joining %s", target)
        ray.init(address=target, log_to_driver=False)
    try:
        yield ray
    finally:
        ray.shutdown()
