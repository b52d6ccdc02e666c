"""Threads x batch size x compute dtype for extraction: which settings to use on this machine.

The Extractor (offline model by default, no store, sentence vectors of layer 8 and of all
layers) on the same Tatoeba sentences as ``extract_bench`` (8 languages), for every
combination of ``--threads`` and ``--batches`` and ``--dtypes``. Combinations are interleaved
round by round (rotating order) and the best of ``--repeats`` rounds is kept, so load from
other processes falls on every setting alike. Sentences/s per setting and the best setting per
(dtype, layers) are printed and written to ``results/bench/threads_bench.json``.

Run: ``python benchmarks/threads_bench.py [--n 512] [--threads 1,2] [--batches 16,32,64,128]
[--dtypes fp32,bf16] [--repeats 3]``.

Threads above the cores the process really gets (other processes included) slow every
setting down sharply (OpenMP threads wait on each other): measure on the machine as it will
be used.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="offline")
    ap.add_argument("--n", type=int, default=512)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batches", default="16,32,64,128")
    ap.add_argument("--dtypes", default="fp32,bf16")
    ap.add_argument("--layers", default="8;all", help="';'-separated layer requests")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "results" / "bench" / "threads_bench.json"))
    a = ap.parse_args()

    import torch
    from extract_bench import load_texts

    from mbert_lab.encode.extractor import ExtractConfig, Extractor
    from mbert_lab.models.registry import load_encoder

    enc = load_encoder(a.model)
    texts = load_texts(a.n)
    layer_sets = {s: (tuple(range(enc.num_layers + 1)) if s == "all" else tuple(int(x) for x in s.split(",")))
                  for s in a.layers.split(";")}
    combos = list(itertools.product([int(t) for t in a.threads.split(",")], [int(b) for b in a.batches.split(",")],
                                    a.dtypes.split(","), list(layer_sets)))
    extractors = {c: Extractor(enc, ExtractConfig(layers=layer_sets[c[3]], outputs=("sentence",), batch_size=c[1],
                                                  dtype=c[2]), progress=False) for c in combos}
    for c in combos:  # warm-up (bf16 copy, int8 quantisation made once per encoder)
        torch.set_num_threads(c[0])
        extractors[c].encode(texts[:8])
    best: dict[tuple, float] = {}
    for r in range(a.repeats):
        order = combos[r % len(combos):] + combos[: r % len(combos)]
        for c in order:
            torch.set_num_threads(c[0])
            t0 = time.perf_counter()
            extractors[c].encode(texts)
            best[c] = min(best.get(c, float("inf")), time.perf_counter() - t0)
        print(f"round {r + 1}/{a.repeats} done, load {os.getloadavg()[0]:.1f}", flush=True)
    rows = [{"threads": t, "batch": b, "dtype": d, "layers": ls, "sentences_per_s": a.n / best[(t, b, d, ls)]}
            for t, b, d, ls in combos]
    print(f"{'layers':>6} {'dtype':>5} {'threads':>7} {'batch':>5} {'sent/s':>8}")
    for x in rows:
        print(f"{x['layers']:>6} {x['dtype']:>5} {x['threads']:>7} {x['batch']:>5} {x['sentences_per_s']:8.1f}")
    winners = {}
    for (d, ls), grp in itertools.groupby(sorted(rows, key=lambda x: (x["dtype"], x["layers"])),
                                          key=lambda x: (x["dtype"], x["layers"])):
        w = max(grp, key=lambda x: x["sentences_per_s"])
        winners[f"{d} layers={ls}"] = w
        print(f"best {d} layers={ls}: threads {w['threads']}, batch {w['batch']}: {w['sentences_per_s']:.1f} sentences/s")
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"n": a.n, "model": a.model, "rows": rows, "best": winners,
                               "load_end": os.getloadavg()}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
