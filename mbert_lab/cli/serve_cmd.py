"""``mbert-lab serve``: a local web explorer (neighbours, alignments, result folders) over an
index and a results folder. The app lives in :mod:`mbert_lab.serve`; this module only parses
the options, checks them before anything loads, and runs uvicorn."""

from __future__ import annotations

import argparse
import sys

EPILOG = """examples:
  mbert-lab serve --index results/index/tatoeba3 --results results   # then open http://127.0.0.1:8000 [long]
  mbert-lab serve --results results/demo --port 8765                 # results browser (and alignments) only [long]
  mbert-lab serve --index results/index/tatoeba3 --host 0.0.0.0 --port 8080   # other machines too: warns [long]

The model is the one recorded in the index (another --model is refused); it loads once in the
background while the pages already answer. Binds 127.0.0.1 unless --host says otherwise. No
endpoint writes files; the JSON API's schema is at /openapi.json.
"""


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="local web explorer: neighbours, alignment viewer, results browser (JSON API too)",
        description="Serve a small web app on this machine: query cross-lingual neighbours in an index, "
        "view word alignments of pasted or gold sentence pairs, browse folders of results.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--index", default=None, help="index folder built by 'mbert-lab index build' (neighbours page)")
    p.add_argument("--results", default=None, help="folder of results to browse (JSON, PNG/SVG, a findings report)")
    p.add_argument("--model", default=None,
                   help="model (default: the one recorded in the index; another one is refused; "
                   "without --index: offline)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000; 0: any free port)")
    p.add_argument("--device", default="cpu", help="torch device: cpu, cuda, cuda:N or mps (default: cpu)")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for torch (default: torch's choice)")
    p.set_defaults(func=run)


def check_args(args: argparse.Namespace) -> str:
    """Everything checked before the server starts or a model loads (the model fields by the
    study Configs' rules); returns the model name."""
    from ..errors import ConfigError
    from ..serve.state import choose_model
    from ..studies.base import EncoderOptions, check_input_dir

    if args.index is None and args.results is None:
        raise ConfigError("give --index DIR (neighbours), --results DIR (results browser) or both")
    if not 0 <= args.port <= 65535:
        raise ConfigError(f"--port: must be in 0..65535, got {args.port}")
    if args.results is not None:
        check_input_dir("--results", args.results)
    model = choose_model(args.index, args.model)
    EncoderOptions(model=model, device=args.device, threads=args.threads)  # same rules as every study
    check_port(args.host, args.port)
    return model


def check_port(host: str, port: int) -> None:
    """Fail now, in one line, if the address cannot be bound (in use, unknown host)."""
    import socket

    from ..errors import ConfigError

    if port == 0:
        return
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(infos[0][4])
    except OSError as e:
        raise ConfigError(f"--host/--port: cannot listen on {host}:{port} ({e.strerror or e}); "
                          "choose another --port") from None


def warn_host(host: str) -> bool:
    """Warn (stderr) when binding anything but loopback; returns whether it warned."""
    from ..serve.state import LOCAL_HOSTS

    if host in LOCAL_HOSTS:
        return False
    print(f"mbert-lab serve: warning: binding {host}: other machines can reach this server "
          "(no authentication); use --host 127.0.0.1 to keep it local", file=sys.stderr)
    return True


def run(args: argparse.Namespace) -> int:
    from ..errors import ConfigError

    try:
        import fastapi  # noqa: F401
        import uvicorn
    except ImportError as e:
        raise ConfigError(f"mbert-lab serve needs the 'serve' extra ({e.name} is missing): "
                          "pip install 'mbert-lab[serve]'") from None
    model = check_args(args)
    warn_host(args.host)

    from ..serve import create_app
    from ..serve.state import LOCAL_HOSTS

    # on loopback, only loopback Host headers (no DNS rebinding); elsewhere the user chose to expose it
    hosts = [*LOCAL_HOSTS, "[::1]"] if args.host in LOCAL_HOSTS else None
    app = create_app(args.index, args.results, model, device=args.device, threads=args.threads, allowed_hosts=hosts)
    shown = f"[{args.host}]" if ":" in args.host else args.host
    print(f"mbert-lab serve: model {model} loading in the background; "
          f"open http://{shown}:{args.port or '<port>'}/ (Ctrl-C stops)", file=sys.stderr, flush=True)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
    return 0
