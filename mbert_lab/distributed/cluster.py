"""Join or start a Ray cluster for one run; shut down only what this run started."""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from typing import Any

log = logging.getLogger(__name__)


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
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    kw: dict[str, Any] = {"log_to_driver": False}
    env = os.environ.get("RAY_ADDRESS")
    if address in (None, "local") and not env:
        kw.update(num_cpus=num_cpus, include_dashboard=False, _node_ip_address="127.0.0.1")
        target = None
    else:
        target = env if address in (None, "local") else address
    log.info("ray: %s", f"joining {target}" if target else "starting a local cluster on 127.0.0.1")
    ray.init(address=target, **kw)
    try:
        yield ray
    finally:
        ray.shutdown()
