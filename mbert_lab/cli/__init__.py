"""The ``mbert-lab`` command line.

Each subcommand lives in its own small module under ``mbert_lab/cli/`` exposing
``add_parser(subparsers)``; the module registers ``run(args) -> int`` as the handler. Only
argparse is imported here so ``mbert-lab --help`` is instant: heavy libraries are imported
inside the handlers.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import sys
from pathlib import Path

# name -> module; order is the order shown in --help.
COMMANDS: dict[str, str] = {
    "demo": "mbert_lab.cli.demo_cmd",
    "extract": "mbert_lab.cli.extract_cmd",
    "centroids": "mbert_lab.cli.centroids_cmd",
    "data": "mbert_lab.cli.data_cmd",
    "index": "mbert_lab.cli.index_cmd",
    "neighbours": "mbert_lab.cli.neighbours_cmd",
    "model": "mbert_lab.cli.model_cmd",
    "align": "mbert_lab.cli.align_cmd",  # also registers align-eval
    "align-train": "mbert_lab.cli.align_train_cmd",
    "vocab": "mbert_lab.cli.vocab_cmd",
    "transfer": "mbert_lab.cli.transfer_cmd",
    "run": "mbert_lab.cli.run_cmd",
    "serve": "mbert_lab.cli.serve_cmd",
    "report": "mbert_lab.cli.report_cmd",
}

EPILOG = """examples:
  mbert-lab demo --out results/demo                 # the whole suite, offline, on embedded data [long]
  mbert-lab data list                               # which datasets are present / missing
  mbert-lab model build-offline                     # build the offline default model now
  mbert-lab extract --text "Hello world" --layers 4,8 --out vec.npz

Datasets are read from $MBERT_LAB_DATA; caches live in $MBERT_LAB_CACHE.
"""


class OneLineParser(argparse.ArgumentParser):
    """Usage errors in one line (``mbert-lab align: error: argument --format: invalid choice
    ...; see 'mbert-lab align --help'``), exit 2: the same shape as every other bad input."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}; see '{self.prog} --help'\n")


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="mbert-lab",
        description="Cross-lingual analysis of multilingual encoders (mBERT first).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from mbert_lab import __version__

    parser.add_argument("--version", action="version", version=f"mbert-lab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, modname in COMMANDS.items():
        mod = importlib.import_module(modname)
        mod.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit codes: 0 ok; 2 bad input or usage (one line naming the option or
    file); 1 an internal error (one line naming it and a log file holding the traceback, under
    ``<cache>/logs``); 130 interrupted. The error line is the last line printed."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from . import common

    common.ARGV = list(sys.argv[1:] if argv is None else argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from mbert_lab.errors import MbertLabError

    command = " ".join(str(getattr(args, d)) for d in _chosen_dests(parser, args)) or "mbert-lab"
    try:
        _check_utf8_args(parser, args)
        return int(args.func(args) or 0)
    except MbertLabError as e:
        return _fail(f"mbert-lab {command}: error: {_one_line(e)}", e.exit_code)
    except KeyboardInterrupt:
        print("interrupted; finished shards/results are kept and a rerun resumes", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `mbert-lab ... | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except Exception as e:  # noqa: BLE001 - a bug or an unexpected environment failure
        log = _write_log(command, argv)
        where = f"; traceback in {log}" if log else ""
        what = f"{type(e).__name__}: {_one_line(e)}" if str(e) else type(e).__name__
        return _fail(f"mbert-lab {command}: internal error: {what}{where}", 1)


def _one_line(e: BaseException, limit: int = 600) -> str:
    text = " ".join(line.strip() for line in str(e).splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _fail(line: str, code: int) -> int:
    """Print the error line last: after anything the command had buffered on stdout, and
    after progress bars it left open (closed now rather than at interpreter exit)."""
    tqdm_mod = sys.modules.get("tqdm")
    if tqdm_mod is not None:
        with contextlib.suppress(Exception):
            for bar in list(getattr(tqdm_mod.tqdm, "_instances", ())):
                bar.close()
    with contextlib.suppress(Exception):
        sys.stdout.flush()
    print(line.encode("utf-8", "backslashreplace").decode("utf-8"), file=sys.stderr, flush=True)
    return code


def _write_log(command: str, argv: list[str] | None) -> str | None:
    """Write the current exception's traceback to ``<cache>/logs/<time>-<command>.log``
    (a temporary folder if the cache cannot be written); returns the path or None."""
    import datetime
    import platform
    import tempfile
    import traceback

    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    name = f"{stamp}-{os.getpid()}-{command.replace(' ', '-')}.log"
    args = sys.argv[1:] if argv is None else list(argv)
    from mbert_lab import __version__

    body = (
        f"mbert-lab {__version__}, Python {platform.python_version()}, {platform.platform()}\n"
        f"command line: {' '.join(['mbert-lab', *map(str, args)])!r}\n\n{traceback.format_exc()}"
    )
    for folder in (_cache_logs, lambda: Path(tempfile.gettempdir()) / "mbert-lab-logs"):
        with contextlib.suppress(Exception):
            d = folder()
            d.mkdir(parents=True, exist_ok=True)
            (d / name).write_text(body, encoding="utf-8", errors="backslashreplace")
            return str(d / name)
    traceback.print_exc()  # nowhere to write it: show it, the one line still comes last
    return None


def _cache_logs() -> Path:
    from mbert_lab.paths import cache_dir

    return cache_dir("logs")


def _chosen_dests(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    """The dests of the subcommand choices made (``command``, then e.g. ``model_action``)."""
    return [dest for _, dest in _chosen_parsers(parser, args) if dest is not None]


def _chosen_parsers(
    parser: argparse.ArgumentParser, args: argparse.Namespace
) -> list[tuple[argparse.ArgumentParser, str | None]]:
    """(parser, dest of the subparsers action chosen in it or None), top parser first."""
    out: list[tuple[argparse.ArgumentParser, str | None]] = []
    p: argparse.ArgumentParser | None = parser
    while p is not None:
        nxt = None
        dest = None
        for a in p._actions:
            if isinstance(a, argparse._SubParsersAction):
                chosen = getattr(args, a.dest, None)
                if chosen in a.choices:
                    nxt, dest = a.choices[chosen], a.dest
        out.append((p, dest))
        p = nxt
    return out


def _check_utf8_args(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Command-line text must be UTF-8: undecodable bytes reach Python as lone surrogates
    (``extract --text $'\\xff'``); reject them naming the option, before any work."""
    from mbert_lab.errors import ConfigError

    actions = {}
    for p, _ in reversed(_chosen_parsers(parser, args)):  # the innermost parser names it
        for a in p._actions:
            actions.setdefault(a.dest, a)

    def strings(value: object) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, (list, tuple)):  # nargs / append options: lists, lists of lists
            return [s for v in value for s in strings(v)]
        return []

    for dest, value in vars(args).items():
        for v in strings(value):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError as e:
                a = actions.get(dest)
                opt = dest
                if a is not None and a.option_strings:
                    opt = max(a.option_strings, key=len)  # --long form
                elif a is not None and isinstance(a.metavar, str):
                    opt = a.metavar
                c = ord(v[e.start])
                what = f"byte 0x{c - 0xDC00:02x}" if 0xDC80 <= c <= 0xDCFF else f"U+{c:04X}"
                raise ConfigError(
                    f"{opt}: not valid UTF-8 ({what} at character {e.start + 1}); "
                    "command-line text and paths must be UTF-8"
                ) from None


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
