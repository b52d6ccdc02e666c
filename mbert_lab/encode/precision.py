"""Compute precision of the encoder's forward pass: ``fp32``, ``bf16`` or ``int8``.

- ``fp32``: the model as loaded.
- ``bf16``: a bfloat16 copy of the model (made once per encoder and kept on it), the faster
  of the two ways measured here (offline model, 1 thread, interleaved, best of several runs):
  bare forward on 64 Tatoeba sentences 0.61 s vs 0.65 s under
  ``torch.autocast("cpu", dtype=torch.bfloat16)``; the Extractor on 256 sentences (8
  languages, layers 8 + 12) 2.00 s vs 2.16 s. Autocast is closer to fp32 (per-token cosine at
  layer 8: mean 0.99999 / min 0.99996 vs 0.99996 / 0.99981 for the copy; both well above the
  0.999 asked for) and needs no second copy of the weights: ``BF16_MODE = "autocast"`` selects it.
- ``int8``: dynamic quantisation (``torch.ao.quantization.quantize_dynamic``: int8 weights with
  one scale per output channel, activations quantised per batch) of the ``nn.Linear`` layers
  that do not narrow the width, on a *copy* of the model made once per encoder and kept on it
  (``encoder.extra``), so repeated extractors do not quantise again. The narrowing ones (the
  feed-forward down-projection, whose inputs, GELU outputs, have outliers that one scale per
  tensor cannot hold) stay fp32: on 64 Tatoeba sentences (deu + jpn, offline model) the
  per-token cosine to fp32 at layer 8 is mean 0.914 / min 0.764 with every Linear quantised
  per tensor, 0.949 / 0.875 per channel, 0.987 / 0.960 per channel with the down-projection
  kept, for about 10% more time than the fully quantised model.

What the CPU supports is detected: bf16 needs AVX512_BF16 or AMX (``/proc/cpuinfo`` flags, or
torch's CPU capability) on CPU, ``torch.cuda.is_bf16_supported()`` on CUDA; int8 needs a
quantised engine (``x86`` or ``fbgemm``) and the CPU. Where it cannot run: :class:`ConfigError`.
"""

from __future__ import annotations

import contextlib
import functools
import warnings
from collections.abc import Iterator
from typing import Any

from ..errors import ConfigError

COMPUTE_DTYPES = ("fp32", "bf16", "int8")
BF16_MODE = "weights"  # a bfloat16 copy of the model; "autocast": fp32 weights under autocast
STORE_DTYPES = ("float32", "float16")
_INT8_ENGINES = ("x86", "fbgemm")


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags of ``/proc/cpuinfo`` (empty where there is none)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def cpu_supports_bf16() -> bool:
    """True where the CPU has native bfloat16 arithmetic (AVX512_BF16 or AMX-BF16)."""
    flags = cpu_flags()
    if flags & {"avx512_bf16", "amx_bf16"}:
        return True
    try:
        import torch

        cap = str(torch.backends.cpu.get_cpu_capability()).upper()
    except Exception:  # noqa: BLE001 - an old torch without the query
        return False
    return "BF16" in cap or "AMX" in cap


def int8_engine() -> str | None:
    """The quantised engine dynamic int8 uses here (``x86`` or ``fbgemm``), or None."""
    import torch

    engines = set(torch.backends.quantized.supported_engines)
    for e in _INT8_ENGINES:
        if e in engines:
            return e
    return None


def check_compute_dtype(dtype: str, device: str = "cpu") -> None:
    """ConfigError when ``dtype`` is unknown or cannot run on ``device`` here."""
    if dtype not in COMPUTE_DTYPES:
        from ..errors import choice_error

        raise choice_error("dtype", dtype, COMPUTE_DTYPES)
    base = str(device).partition(":")[0]
    if dtype == "bf16":
        if base == "cpu" and not cpu_supports_bf16():
            raise ConfigError(
                "dtype: bf16 needs a CPU with AVX512_BF16 or AMX (not found in /proc/cpuinfo "
                "nor torch's CPU capability); use --dtype fp32 (or int8)"
            )
        if base == "cuda":
            import torch

            if not torch.cuda.is_bf16_supported():
                raise ConfigError("dtype: bf16 is not supported by this CUDA device; use --dtype fp32")
    elif dtype == "int8":
        if base != "cpu":
            raise ConfigError(f"dtype: int8 (dynamic quantisation) runs on the CPU only, not '{device}'")
        if int8_engine() is None:
            raise ConfigError(
                "dtype: int8 needs torch's x86/fbgemm quantised engine, which this torch lacks; "
                "use --dtype fp32"
            )


def compute_model(encoder: Any, dtype: str) -> Any:
    """The module that runs the forward pass for ``dtype``: the model itself, or its bfloat16
    / dynamically quantised copy, cached on the encoder for as long as the model is the same."""
    if dtype == "fp32" or (dtype == "bf16" and BF16_MODE == "autocast"):
        return encoder.model
    cache = encoder.extra.setdefault("_compute_models", {})
    hit = cache.get(dtype)
    if hit is not None and hit[0] is encoder.model:
        return hit[1]
    import copy

    import torch

    if dtype == "bf16":
        m = copy.deepcopy(encoder.model).to(torch.bfloat16).eval()
        cache["bf16"] = (encoder.model, m)
        return m

    engine = int8_engine()
    if engine is None:
        check_compute_dtype("int8")
    old = torch.backends.quantized.engine
    torch.backends.quantized.engine = engine
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch.ao's migration notice, on every call
            from torch.ao.quantization import per_channel_dynamic_qconfig

            model = copy.deepcopy(encoder.model)
            spec = {
                name: per_channel_dynamic_qconfig
                for name, mod in model.named_modules()
                if isinstance(mod, torch.nn.Linear) and mod.out_features >= mod.in_features
            }
            q = torch.ao.quantization.quantize_dynamic(model, spec, dtype=torch.qint8)
    finally:
        torch.backends.quantized.engine = old
    q.eval()
    cache["int8"] = (encoder.model, q)
    return q


@contextlib.contextmanager
def compute_context(dtype: str, device: str) -> Iterator[None]:
    """The context the forward pass runs in: bf16 autocast, or nothing."""
    if dtype == "bf16" and BF16_MODE == "autocast":
        import torch

        with torch.autocast(str(device).partition(":")[0], dtype=torch.bfloat16):
            yield
    elif dtype == "int8":
        import torch

        old = torch.backends.quantized.engine
        torch.backends.quantized.engine = int8_engine() or old
        try:
            yield
        finally:
            torch.backends.quantized.engine = old
    else:
        yield
