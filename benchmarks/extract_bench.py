"""Extraction throughput: mbert-lab's Extractor vs. a bare batched ``model(**batch)`` loop.

Same process, same texts (2,000 Tatoeba sentences: 250 from each of 8 languages), same
batch size, both length-sorted, one loaded model. The modes are interleaved chunk by chunk
(rotating order) and repeated, so load from other processes falls on every mode alike.

Modes:
- ``bare``: tokenizer(batch, padding) + model(**batch) over all 12 layers, outputs dropped;
  ``bare_<dtype>``: the same loop on the bf16 copy / int8 quantised copy of the model;
- ``ours_all_sentence``: all 13 hidden states kept, sentence vectors (3 poolings) stored;
- ``ours_all_full``: all 13 hidden states kept, sentence + word + subword vectors stored;
- ``ours_L8``: only layer 8 requested: the forward pass stops after block 8;
- ``ours_all_store``: as ``ours_all_sentence`` but written to (and verified in) the on-disk store;
- with ``--dtype bf16,int8`` (compute precision), per extra dtype: ``ours_all_sentence_<dtype>``
  and ``ours_L8_<dtype>``, and a fidelity table: per-token cosine of the subword vectors to
  fp32 at layers 8 and 12 (mean and min) on the same texts, plus float16 *storage* fidelity.

Run: ``python benchmarks/extract_bench.py [--n 2000] [--repeats 2] [--threads 2] [--dtype bf16,int8]``.
Peak RSS is the process's, reported as it grows (modes share the process).
Writes ``results/bench/extract_bench.json``.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import resource
import shutil
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


def build_runners(enc, batch: int, dtypes: tuple[str, ...] = ()):
    """name -> function(texts) for every mode, sharing one loaded model."""
    import numpy as np
    import torch

    from mbert_lab.encode.extractor import ExtractConfig, Extractor
    from mbert_lab.encode.store import Store

    tok, model = enc.tokenizer, enc.model

    def bare_with(m):
        def bare(texts):
            lengths = [len(x) for x in tok(texts)["input_ids"]]
            order = np.argsort(lengths, kind="stable").tolist()
            with torch.inference_mode():
                for s in range(0, len(order), batch):
                    b = tok([texts[i] for i in order[s : s + batch]], padding=True, return_tensors="pt")
                    m(**b)
        return bare

    bare = bare_with(model)

    def ours(layers, outputs, store=None, dtype="fp32"):
        cfg = ExtractConfig(layers=layers, outputs=outputs, batch_size=batch, dtype=dtype)
        ex = Extractor(enc, cfg, store=store, progress=False)
        return lambda texts: ex.encode(texts)

    all_layers = tuple(range(enc.num_layers + 1))
    tmp = tempfile.mkdtemp(prefix="mbert-bench-")
    atexit.register(shutil.rmtree, tmp, True)  # the store mode's shards go with the process
    runners = {
        "bare": bare,
        "ours_all_sentence": ours(all_layers, ("sentence",)),
        "ours_all_full": ours(all_layers, ("sentence", "word", "subword")),
        "ours_L8": ours((8,), ("sentence",)),
        "ours_all_store": ours(all_layers, ("sentence",), Store(tmp)),
    }
    from mbert_lab.encode.precision import compute_model

    for dt in dtypes:
        # the same bare loop on the dtype's model (the bf16 copy / int8 quantised copy): the
        # ceiling our bf16/int8 extraction is measured against
        runners[f"bare_{dt}"] = bare_with(compute_model(enc, dt))
        runners[f"ours_all_sentence_{dt}"] = ours(all_layers, ("sentence",), dtype=dt)
        runners[f"ours_L8_{dt}"] = ours((8,), ("sentence",), dtype=dt)
    return runners


def fidelity(enc, texts: list[str], dtypes: tuple[str, ...], batch: int) -> dict:
    """Per-token cosine to fp32 of each dtype's subword vectors (layers 8, 12), and of
    float16-stored vectors (sentence and subword) to float32-stored ones."""
    import numpy as np

    from mbert_lab.encode.extractor import ExtractConfig, Extractor

    layers = (8, enc.num_layers)

    def run(**kw):
        cfg = ExtractConfig(layers=layers, outputs=("sentence", "subword"), batch_size=batch, **kw)
        return Extractor(enc, cfg, progress=False).encode(texts)

    def cos(a, b):
        return (a * b).sum(1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))

    def tokens(c, layer):
        return np.concatenate([c.subwords(i, layer) for i in range(len(c))])

    ref = run()
    out: dict = {}
    for name, kw in [(dt, {"dtype": dt}) for dt in dtypes] + [("store_float16", {"store_dtype": "float16"})]:
        c = run(**kw)
        for layer in layers:
            t = cos(tokens(ref, layer), tokens(c, layer))
            s = cos(ref.sentence(layer), c.sentence(layer))
            out[f"{name}_L{layer}"] = {
                "token_cos_mean": float(t.mean()), "token_cos_min": float(t.min()),
                "sentence_cos_mean": float(s.mean()), "sentence_cos_min": float(s.min()),
            }
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--chunk", type=int, default=250, help="texts per interleaved round")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="", help="extra compute dtypes to time against fp32, e.g. bf16,int8")
    ap.add_argument("--fidelity-n", type=int, default=400, help="texts for the cosine-to-fp32 table")
    ap.add_argument("--out", default=str(ROOT / "results" / "bench" / "extract_bench.json"))
    a = ap.parse_args()
    dtypes = tuple(x for x in a.dtype.split(",") if x and x != "fp32")
    import torch

    from mbert_lab.models.registry import load_encoder

    torch.set_num_threads(a.threads)
    enc = load_encoder("offline")
    texts = load_texts(a.n)
    n_tokens = sum(len(x) for x in enc.tokenizer(texts)["input_ids"])
    from mbert_lab.encode.precision import check_compute_dtype

    for dt in dtypes:
        check_compute_dtype(dt)
    runners = build_runners(enc, a.batch, dtypes)
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
    if dtypes:
        report["ratio_vs_fp32"] = {m: best[m]["sent_per_s"] / best[m.rsplit("_", 1)[0]]["sent_per_s"]
                                   for m in modes if m.rsplit("_", 1)[-1] in dtypes}
    report["fidelity"] = fidelity(enc, load_texts(a.fidelity_n), dtypes, a.batch)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(report, indent=2))
    print("\nratio vs bare model(**batch) loop (sentences/s):")
    for m, v in ratios.items():
        print(f"  {m:18s} {v:.3f}")
    for m, v in report.get("ratio_vs_fp32", {}).items():
        print(f"  {m:24s} {v:.3f} x fp32")
    print("\ncosine to fp32 (float32 storage) / of float16 storage to float32:")
    for k, v in report["fidelity"].items():
        print(f"  {k:22s} token mean {v['token_cos_mean']:.6f} min {v['token_cos_min']:.6f}  "
              f"sentence mean {v['sentence_cos_mean']:.6f} min {v['sentence_cos_min']:.6f}")
    print(f"written {a.out}")


if __name__ == "__main__":
    main()
