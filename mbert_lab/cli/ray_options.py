"""``--ray [ADDRESS]`` and ``--ray-workers N`` for the commands that can run on Ray."""

from __future__ import annotations

import argparse
from typing import Any


def add_ray_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="run on Ray: alone, a local cluster on 127.0.0.1 (or $RAY_ADDRESS); or a cluster "
                   "address HOST:PORT / ray://HOST:PORT / auto. Same output as without it "
                   "(pip install 'mbert-lab[ray]')")
    p.add_argument("--ray-workers", type=int, default=None, metavar="N",
                   help="with --ray: model actors / index parts / k-NN tasks (default: cluster CPUs / --threads)")


def ray_fields(args: argparse.Namespace) -> dict[str, Any]:
    return {"ray": args.ray, "ray_workers": args.ray_workers}
