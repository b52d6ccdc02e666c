"""One local Ray cluster per test session (loopback only, 2 CPUs, dashboard off), shared by
every ``tests/test_ray_*.py`` module that imports ``ray_cluster``."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(scope="session")
def ray_cluster():
    import ray  # a test dependency (the 'test' extra): Ray tests never skip

    from mbert_lab.distributed.cluster import loopback_only

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    started = False
    if not ray.is_initialized():
        loopback_only()  # Ray would otherwise advertise the machine's routable address
        ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
        started = True
    assert ray.util.get_node_ip_address() == "127.0.0.1"
    yield ray
    if started:
        ray.shutdown()


def tatoeba_corpus(langs=("deu", "fra")) -> list[str]:
    """The Tatoeba sides of ``langs`` and their English sides, first occurrence of each text."""
    from mbert_lab.data.readers.text import read_lines
    from mbert_lab.studies.retrieval import tatoeba_files

    seen: dict[str, None] = {}
    for lg in langs:
        for f in tatoeba_files(lg):
            for t in read_lines(f):
                seen.setdefault(t, None)
    return list(seen)
