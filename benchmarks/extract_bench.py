"""Extraction throughput: mbert-lab's Extractor vs. a bare batched ``model(**batch)`` loop.

Same process, same texts (2,000 Tatoeba sentences: 250 from each of 8 languages), same
batch size, both length-sorted, one loaded model. The modes are interleaved chunk by chunk
(rotating order) and repeated, so load from other processes falls on every mode alike.

Modes:
- ``bare``: tokenizer(batch, padding) + model(**batch) over all 12 layers, outputs dropped;
- ``ours_all_sentence``: all 13 hidden states kept, sentence vectors (3 poolings) stored;
- ``ours_all_full``: all 13 hidden states kept, sentence + word + subword vectors stored;
- ``ours_L8``: only layer 8 requested: the forward pass stops after block 8;
- ``ours_all_store``: as ``ours_all_sentence`` but written to (and verified in) the on-disk store.

Run: ``python benchmarks/extract_bench.py [--n 2000] [--repeats 2] [--threads 2]``.
Peak RSS is the process's, reported as it grows (modes share the process).
Writes ``results/bench/extract_bench.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MBERT_LAB_DATA", str(ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(ROOT))
LANGS = ("deu", "fra", "spa", "rus", "cmn", "jpn", "ara", "hin")


def load_texts(n: int) -> list[str]:
    from mbert_lab.data.datasets import load_tatoeba

    per = n // len(LANGS)
    texts: list[str] = []
    for lang in LANGS:
        pairs = load_tatoeba(lang)
        texts.extend(p.src for p in pairs.pairs[:per])
    return texts[:n]


def build_runners(enc, batch: int):
    """name -> function(texts) for every mode, sharing one loaded model."""
    import numpy as np
    import torch

    from mbert_lab.encode.extractor import ExtractConfig, Extractor
    from mbert_lab.encode.store import Store

    tok, model = enc.tokenizer, enc.model

    def bare(texts):
        lengths = [len(x) for x in tok(texts)["input_ids"]]
        order = np.argsort(lengths, kind="stable").tolist()
        with torch.inference_mode():
            for s in range(0, len(order), batch):
                b = tok([texts[i] for i in order[s : s + batch]], padding=True, return_tensors="pt")
                model(**b)

    def ours(layers, outputs, store=None):
        ex = Extractor(enc, ExtractConfig(layers=layers, outputs=outputs, batch_size=batch), store=store, progress=False)
        return lambda texts: ex.encode(texts)

    all_layers = tuple(range(enc.num_layers + 1))
    return {
        "bare": bare,
        "ours_all_sentence": ours(all_layers, ("sentence",)),
        "ours_all_full": ours(all_layers, ("sentence", "word", "subword")),
        "ours_L8": ours((8,), ("sentence",)),
        "ours_all_store": ours(all_layers, ("sentence",), Store(tempfile.mkdtemp(prefix="mbert-bench-"))),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--chunk", type=int, default=250, help="texts per interleaved round")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=str(ROOT / "results" / "bench" / "extract_bench.json"))
    a = ap.parse_args()
    import torch

    from mbert_lab.models.registry import load_encoder

    torch.set_num_threads(a.threads)
    enc = load_encoder("offline")
    texts = load_texts(a.n)
    n_tokens = sum(len(x) for x in enc.tokenizer(texts)["input_ids"])
    runners = build_runners(enc, a.batch)
    modes = list(runners)
    runners["bare"](texts[:64])  # warm-up
    seconds = {m: 0.0 for m in modes}
    rss: dict[str, float] = {}
    # Interleave the modes chunk by chunk (rotating their order) so that load from other
    # processes on the machine falls on every mode alike; each repeat re-encodes every text
    # (the store mode writes new shards in the first repeat and reads them in later ones, so
    # only its first repeat is timed).
    for r in range(a.repeats):
        for c, s in enumerate(range(0, len(texts), a.chunk)):
            chunk = texts[s : s + a.chunk]
            k = (c + r) % len(modes)
            for mode in modes[k:] + modes[:k]:
                if mode == "ours_all_store" and r > 0:
                    continue
                t0 = time.perf_counter()
                runners[mode](chunk)
                seconds[mode] += time.perf_counter() - t0
                rss[mode] = max(rss.get(mode, 0.0), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    best = {}
    for m in modes:
        reps = 1 if m == "ours_all_store" else a.repeats
        dt = seconds[m] / reps
        best[m] = {"seconds": dt, "sent_per_s": a.n / dt, "tok_per_s": n_tokens / dt, "process_peak_rss_mb_so_far": rss[m]}
        print(f"{m:18s} {a.n / dt:8.1f} sent/s {n_tokens / dt:8.0f} tok/s  (process peak RSS so far {rss[m]:.0f} MB)")
    bare = best["bare"]["sent_per_s"]
    ratios = {m: best[m]["sent_per_s"] / bare for m in modes if m != "bare"}
    report = {"n": a.n, "tokens": n_tokens, "batch": a.batch, "threads": a.threads, "chunk": a.chunk,
              "repeats": a.repeats, "modes": best, "ratio_vs_bare": ratios}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(report, indent=2))
    print("\nratio vs bare model(**batch) loop (sentences/s):")
    for m, v in ratios.items():
        print(f"  {m:18s} {v:.3f}")
    print(f"written {a.out}")


if __name__ == "__main__":
    main()
