"""Word alignment: mbert-lab vs. SimAlign 0.4 (``SentenceAligner``), same model, layer, machine, run.

Aligns the three gold sets (en-fr, ro-en, ja-en in ``$MBERT_LAB_DATA/word-alignment``) with
ArgMax + IterMax + Match, once with mbert-lab and once with SimAlign, each in its own
subprocess (so each peak RSS is its own), one after the other in the same invocation.

Timed, for both: from word lists in memory to links of all three methods for every pair
(tokenization, encoding, similarity, extraction). Not timed: loading the model and reading
the files, and one warm-up pair each (for bf16, the converted copy of the weights is made
then). mbert-lab runs without its vector cache (every vector is computed in the run).

Parity: SimAlign keeps lone '▁' pieces in its matrices, so the parity rows use the same
treatment (``drop_lone_marker=False``); the effect of dropping them (mbert-lab's default) is
reported next to it. Besides AER, the share of pairs whose links are identical is reported.

Needs the ``bench`` extra (``pip install --no-deps simalign==0.4``; networkx, psutil).
Run (heavy; on the shared machine wrap it in ``flock /tmp/mbert-heavy.lock``)::

    python benchmarks/align_bench.py [--layer 8] [--levels subword,word] [--limit N] [--dtypes fp32,bf16]

``--dtypes``: our compute precisions, each its own run (ours first dtype, SimAlign, ours others);
the parity table has one block per dtype (fp32: identical links expected; bf16: AER close).

Writes ``results/bench/align_bench.json`` (and prints the tables).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SETS = ("en-fr", "ro-en", "ja-en")
METHODS = {"argmax": "inter", "itermax": "itermax", "match": "mwmf"}  # ours -> SimAlign's key


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def load_sets(names: list[str], limit: int | None) -> dict:
    from mbert_lab.studies.alignment import load_gold

    out = {}
    for name in names:
        gold = load_gold(name, limit=limit).pairs
        out[name] = ([list(g.src) for g in gold], [list(g.tgt) for g in gold], gold)
    return out


def worker_ours(args: argparse.Namespace) -> dict:
    import torch

    torch.set_num_threads(args.threads)
    from mbert_lab.analyses.alignment import align_pairs
    from mbert_lab.models.registry import load_encoder
    from mbert_lab.studies.alignment import encode_pairs

    enc = load_encoder(args.model)
    data = load_sets(args.sets, args.limit)
    rss_loaded = rss_mb()
    names = list(data)
    src = [s for n in names for s in data[n][0]]
    tgt = [t for n in names for t in data[n][1]]
    res: dict = {"links": {}, "links_drop": {}, "time": {}}
    # warm-up, untimed (as SimAlign's): first-call overheads, and for bf16/int8 the converted
    # copy of the weights, which is made once per loaded model (part of loading it)
    encode_pairs(enc, src[:1], tgt[:1], layers=(args.layer,), store=None, progress=False, dtype=args.dtype)
    t0 = time.perf_counter()
    s_view, t_view = encode_pairs(enc, src, tgt, layers=(args.layer,), store=None, progress=False,
                                  dtype=args.dtype)
    t_enc = time.perf_counter() - t0
    timed_links: dict = {}
    t_align: dict = {}
    for level in args.levels:
        t1 = time.perf_counter()
        got = align_pairs(s_view, t_view, args.layer, list(METHODS), level, drop_lone_marker=False)
        t_align[level] = time.perf_counter() - t1
        timed_links[level] = {m.value: [list(map(list, a.links)) for a in v] for m, v in got.items()}
    first = args.levels[0]
    res["time"] = {"encode_s": t_enc, "align_s": t_align[first], "align_by_level_s": t_align,
                   "total_s": t_enc + t_align[first]}
    res["rss_after_load_mb"] = rss_loaded
    res["peak_rss_mb"] = peak_rss_mb()
    # split back per set; then the default treatment (lone markers dropped), untimed
    for level in args.levels:
        drop = align_pairs(s_view, t_view, args.layer, list(METHODS), level, drop_lone_marker=True)
        start = 0
        for n in names:
            k = len(data[n][0])
            res["links"].setdefault(level, {})[n] = {m: v[start : start + k] for m, v in timed_links[level].items()}
            res["links_drop"].setdefault(level, {})[n] = {
                m.value: [list(map(list, a.links)) for a in v[start : start + k]] for m, v in drop.items()
            }
            start += k
    n_sub = sum(len(s_view.tokens(i)) + len(t_view.tokens(i)) for i in range(len(src)))
    n_lone = sum(int((~s_view.pooled_mask(i)).sum() + (~t_view.pooled_mask(i)).sum()) for i in range(len(src)))
    res["subwords"] = n_sub
    res["lone_marker_pieces"] = n_lone
    res["pairs"] = len(src)
    return res


def worker_simalign(args: argparse.Namespace) -> dict:
    import logging

    import torch

    torch.set_num_threads(args.threads)
    logging.disable(logging.INFO)
    from simalign import SentenceAligner

    from mbert_lab.models.registry import resolve_model_path

    path, _ = resolve_model_path(args.model)
    data = load_sets(args.sets, args.limit)
    res: dict = {"links": {}, "time": {}, "errors": {}}
    aligners = {
        level: SentenceAligner(model=path, token_type="bpe" if level == "subword" else "word",
                               matching_methods="mai", device="cpu", layer=args.layer)
        for level in args.levels
    }
    res["rss_after_load_mb"] = rss_mb()
    for sa in aligners.values():  # warm-up, untimed (as ours)
        first = next(iter(data.values()))
        sa.get_word_aligns(first[0][0], first[1][0])
    total = 0.0
    for level, sa in aligners.items():
        for name, (src, tgt, _) in data.items():
            out = {m: [] for m in METHODS}
            errors = []
            t0 = time.perf_counter()
            for i, (s, t) in enumerate(zip(src, tgt)):
                try:
                    r = sa.get_word_aligns(s, t)
                except Exception as e:  # SimAlign crashes on some inputs; count, do not hide
                    errors.append([i, repr(e)[:200]])
                    r = {v: [] for v in METHODS.values()}
                for m, k in METHODS.items():
                    out[m].append([list(x) for x in r[k]])
            dt = time.perf_counter() - t0
            total += dt if level == args.levels[0] else 0.0
            res["time"][f"{level}/{name}"] = dt
            res["links"].setdefault(level, {})[name] = out
            res["errors"][f"{level}/{name}"] = errors
    res["time"]["total_s"] = total  # the first level only (the one mbert-lab times too)
    res["peak_rss_mb"] = peak_rss_mb()
    return res


def run_worker(kind: str, args: argparse.Namespace, dtype: str = "fp32") -> dict:
    with tempfile.TemporaryDirectory() as d:
        out = Path(d) / "w.json"
        cmd = [sys.executable, __file__, "--worker", kind, "--worker-out", str(out), "--model", args.model,
               "--layer", str(args.layer), "--sets", ",".join(args.sets), "--levels", ",".join(args.levels),
               "--threads", str(args.threads), "--dtype", dtype]
        if args.limit:
            cmd += ["--limit", str(args.limit)]
        print(f"[{kind} {dtype}] running ...", file=sys.stderr, flush=True)
        subprocess.run(cmd, check=True)
        return json.loads(out.read_text())


def aer(links: list, gold: list) -> float:
    from mbert_lab.analyses.alignment import score_alignments

    return score_alignments([[tuple(x) for x in ls] for ls in links], gold).overall.aer


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", default="offline")
    p.add_argument("--layer", type=int, default=8, help="SimAlign's default layer is 8")
    p.add_argument("--sets", default=",".join(SETS))
    p.add_argument("--levels", default="subword", help="subword (SimAlign 'bpe') and/or word; speed: the first")
    p.add_argument("--limit", type=int, default=None, help="first N pairs of each set")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--dtypes", default="fp32", help="our compute dtypes, e.g. fp32,bf16 (SimAlign: fp32)")
    p.add_argument("--dtype", default="fp32", help=argparse.SUPPRESS)
    p.add_argument("--out", default=str(ROOT / "results" / "bench" / "align_bench.json"))
    p.add_argument("--worker", choices=("ours", "simalign"), help=argparse.SUPPRESS)
    p.add_argument("--worker-out", help=argparse.SUPPRESS)
    args = p.parse_args()
    args.sets = [s for s in args.sets.split(",") if s]
    args.levels = [s for s in args.levels.split(",") if s]
    if args.worker:
        res = worker_ours(args) if args.worker == "ours" else worker_simalign(args)
        Path(args.worker_out).write_text(json.dumps(res))
        return 0

    dtypes = [d for d in args.dtypes.split(",") if d]
    # ours (first dtype), SimAlign, ours (other dtypes): each in its own process
    runs = {dtypes[0]: run_worker("ours", args, dtypes[0])}
    sim = run_worker("simalign", args)
    for dt in dtypes[1:]:
        runs[dt] = run_worker("ours", args, dt)
    ours = runs[dtypes[0]]
    data = load_sets(args.sets, args.limit)
    rows = []
    for dt, run in runs.items():
        for level in args.levels:
            for name in args.sets:
                gold = data[name][2]
                for m in METHODS:
                    a = run["links"][level][name][m]
                    b = sim["links"][level][name][m]
                    same = sum(set(map(tuple, x)) == set(map(tuple, y)) for x, y in zip(a, b)) / len(a)
                    rows.append({
                        "dtype": dt, "level": level, "set": name, "method": m, "pairs": len(gold),
                        "aer_simalign": aer(b, gold), "aer_ours": aer(a, gold),
                        "aer_ours_drop_lone": aer(run["links_drop"][level][name][m], gold),
                        "identical_pairs": same,
                    })
    for r in rows:
        r["diff_points"] = 100 * (r["aer_ours"] - r["aer_simalign"])
    speed = {
        "simalign_s": sim["time"]["total_s"],
        "ours_s": ours["time"]["total_s"],
        "ours_encode_s": ours["time"]["encode_s"],
        "ours_align_s": ours["time"]["align_s"],
        "ratio": sim["time"]["total_s"] / ours["time"]["total_s"],
        "by_dtype": {dt: {"ours_s": r["time"]["total_s"], "encode_s": r["time"]["encode_s"],
                          "ratio": sim["time"]["total_s"] / r["time"]["total_s"]} for dt, r in runs.items()},
        "simalign_per_set_s": {k: v for k, v in sim["time"].items() if k != "total_s"},
        "pairs": ours["pairs"],
        "level_timed": args.levels[0],
    }
    memory = {
        "ours_peak_rss_mb": ours["peak_rss_mb"], "ours_rss_after_load_mb": ours["rss_after_load_mb"],
        "simalign_peak_rss_mb": sim["peak_rss_mb"], "simalign_rss_after_load_mb": sim["rss_after_load_mb"],
    }
    import platform

    import torch

    from mbert_lab.io import atomic_write_json

    result = {
        "benchmark": "align_bench", "model": args.model, "layer": args.layer, "threads": args.threads,
        "limit": args.limit, "machine": {"cpu": platform.processor() or platform.machine(),
                                         "cores": __import__("os").cpu_count(), "torch": torch.__version__},
        "speed": speed, "memory": memory, "parity": rows,
        "simalign_errors": sim["errors"], "subwords": ours["subwords"],
        "lone_marker_pieces": ours["lone_marker_pieces"],
        "command": " ".join(sys.argv),
    }
    atomic_write_json(args.out, result)
    print(f"\n| dtype | level | set | method | SimAlign AER | ours AER | diff (points) | identical pairs | ours, lone '▁' dropped |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['dtype']} | {r['level']} | {r['set']} | {r['method']} | {r['aer_simalign']:.4f} | {r['aer_ours']:.4f} | "
              f"{r['diff_points']:+.2f} | {100 * r['identical_pairs']:.1f}% | {r['aer_ours_drop_lone']:.4f} |")
    print(f"\nspeed ({speed['pairs']} pairs, {speed['level_timed']}, ArgMax+IterMax+Match): SimAlign "
          f"{speed['simalign_s']:.1f} s, ours {speed['ours_s']:.1f} s (encode {speed['ours_encode_s']:.1f} s, "
          f"align {speed['ours_align_s']:.1f} s): {speed['ratio']:.1f}x")
    for dt, v in speed["by_dtype"].items():
        print(f"  {dt}: ours {v['ours_s']:.1f} s (encode {v['encode_s']:.1f} s): {v['ratio']:.1f}x SimAlign")
    print(f"peak RSS: ours {memory['ours_peak_rss_mb']:.0f} MB (after model load "
          f"{memory['ours_rss_after_load_mb']:.0f}), SimAlign {memory['simalign_peak_rss_mb']:.0f} MB "
          f"(after load {memory['simalign_rss_after_load_mb']:.0f})")
    print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
