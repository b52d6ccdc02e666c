"""Where things live: the data mirror, the user cache, results.

- ``MBERT_LAB_DATA``: root of the datasets (layout ``<set>/<files as named upstream>``).
  Default: ``<user data dir>/mbert-lab/data``.
- ``MBERT_LAB_CACHE``: caches (converted offline model, extracted vectors, fetched wheels).
  Default: the platform's user cache dir (``~/.cache/mbert-lab`` on Linux).
"""

from __future__ import annotations

import os
from pathlib import Path

DATA_ENV = "MBERT_LAB_DATA"
CACHE_ENV = "MBERT_LAB_CACHE"


def data_root() -> Path:
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser().resolve()
    from platformdirs import user_data_dir

    return Path(user_data_dir("mbert-lab")) / "data"


def cache_root() -> Path:
    env = os.environ.get(CACHE_ENV)
    if env:
        p = Path(env).expanduser().resolve()
    else:
        from platformdirs import user_cache_dir

        p = Path(user_cache_dir("mbert-lab"))
    _make_dir(p)
    return p


def cache_dir(*parts: str) -> Path:
    p = cache_root().joinpath(*parts)
    _make_dir(p)
    return p


def _make_dir(p: Path) -> None:
    """Create a cache folder, or say in one line why not (and which variable sets it)."""
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        from .errors import ConfigError

        why = e.strerror or type(e).__name__
        if isinstance(e, FileExistsError) or (p.exists() and not p.is_dir()):
            why = "a file is in the way"
        raise ConfigError(
            f"cache folder {p}: cannot create it ({why}); set ${CACHE_ENV} to a writable folder"
        ) from None
