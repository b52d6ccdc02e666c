"""Extraction throughput: mbert-lab's Extractor vs. a bare batched ``model(**batch)`` loop.

Same process, same texts (2,000 Tatoeba sentences: 250 from each of 8 languages), same
batch size, both length-sorted. Each mode runs in its own subprocess so that its peak RSS
is its own; modes are interleaved and repeated, and the best time of each is kept.

Modes:
- ``bare``: tokenizer(batch, padding) + model(**batch) over all 12 layers, outputs dropped;
- ``ours_all_sentence``: all 13 hidden states kept, sentence vectors (3 poolings) stored;
- ``ours_all_full``: all 13 hidden states kept, sentence + word + subword vectors stored;
- ``ours_L8``: only layer 8 requested: the forward pass stops after block 8;
- ``ours_all_store``: as ``ours_all_sentence`` but written to (and verified in) the on-disk store.

Run: ``python benchmarks/extract_bench.py [--n 2000] [--repeats 2] [--threads 2]``.
Writes ``results/bench/extract_bench.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MBERT_LAB_DATA", str(ROOT.parent / "shared" / "data"))
LANGS = ("deu", "fra", "spa", "rus", "cmn", "jpn", "ara", "hin")


def load_texts(n: int) -> list[str]:
    from mbert_lab.data.formats import load_tatoeba

    per = n // len(LANGS)
    texts: list[str] = []
    for lang in LANGS:
        pairs = load_tatoeba(lang)
        texts.extend(p.src for p in pairs.pairs[:per])
    return texts[:n]


def run_mode(mode: str, n: int, batch: int, threads: int) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    from mbert_lab.encode.extractor import ExtractConfig, Extractor
    from mbert_lab.encode.store import Store
    from mbert_lab.models.registry import load_encoder

    enc = load_encoder("offline")
    texts = load_texts(n)
    tok, model = enc.tokenizer, enc.model
    n_tokens = sum(len(x) for x in tok(texts, add_special_tokens=True)["input_ids"])
    t0 = time.perf_counter()
    if mode == "bare":
        lengths = [len(x) for x in tok(texts)["input_ids"]]
        order = np.argsort(lengths, kind="stable").tolist()
        with torch.inference_mode():
            for s in range(0, len(order), batch):
                b = tok([texts[i] for i in order[s : s + batch]], padding=True, return_tensors="pt")
                model(**b)
    else:
        layers = (8,) if mode == "ours_L8" else tuple(range(enc.num_layers + 1))
        outputs = ("sentence", "word", "subword") if mode == "ours_all_full" else ("sentence",)
        store = Store(tempfile.mkdtemp(prefix="mbert-bench-")) if mode == "ours_all_store" else None
        ex = Extractor(enc, ExtractConfig(layers=layers, outputs=outputs, batch_size=batch), store=store, progress=False)
        corpus = ex.encode(texts)
        assert len(corpus) == len(texts)
    dt = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"mode": mode, "seconds": dt, "sent_per_s": n / dt, "tok_per_s": n_tokens / dt, "peak_rss_mb": rss_mb}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--mode", help=argparse.SUPPRESS)
    ap.add_argument("--out", default=str(ROOT / "results" / "bench" / "extract_bench.json"))
    a = ap.parse_args()
    if a.mode:
        print(json.dumps(run_mode(a.mode, a.n, a.batch, a.threads)))
        return
    modes = ["bare", "ours_all_sentence", "ours_all_full", "ours_L8", "ours_all_store"]
    best: dict[str, dict] = {}
    for r in range(a.repeats):
        for mode in modes:
            cmd = [sys.executable, __file__, "--mode", mode, "--n", str(a.n), "--batch", str(a.batch),
                   "--threads", str(a.threads)]
            out = subprocess.run(cmd, capture_output=True, text=True, env=os.environ | {"PYTHONPATH": str(ROOT)})
            if out.returncode != 0:
                sys.exit(f"mode {mode} failed:\n{out.stderr[-3000:]}")
            res = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"repeat {r} {mode:18s} {res['sent_per_s']:8.1f} sent/s {res['tok_per_s']:8.0f} tok/s "
                  f"peak RSS {res['peak_rss_mb']:.0f} MB", flush=True)
            if mode not in best or res["seconds"] < best[mode]["seconds"]:
                best[mode] = res
    bare = best["bare"]["sent_per_s"]
    ratios = {m: best[m]["sent_per_s"] / bare for m in modes if m != "bare"}
    report = {"n": a.n, "batch": a.batch, "threads": a.threads, "best": best, "ratio_vs_bare": ratios}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(report, indent=2))
    print("\nratio vs bare model(**batch) loop (sentences/s):")
    for m, v in ratios.items():
        print(f"  {m:18s} {v:.3f}")
    print(f"written {a.out}")


if __name__ == "__main__":
    main()
