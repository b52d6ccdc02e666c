"""An honest ANN benchmark on real vectors: >= 1M contextual token vectors from the Tatoeba mirror
(and its ~178k real sentence vectors), queries held out of the index by unique sentence text.

Replaces the old faiss_bench (1M noisy copies of 178k vectors, queries that were noisy copies of
base rows: near-duplicate search, easier than real neighbour search).

Steps (each its own process, so that peak RSS is the step's own):

1. ``prepare``: every unique sentence text of the Tatoeba mirror (112 languages x English; the
   English sides repeat across languages and are encoded once) is encoded once by the offline
   model through the library's Extractor and vector store (resumable, cached), layers 8 and 12,
   subword (content word pieces, no specials) and mean-pooled sentence vectors, written as
   float16 matrices under ``--work`` with the sentence of every token. The compute dtype is
   ``--dtype`` (default bf16: per-token cosine to fp32 >= 0.9998 on the offline model, see
   extract_bench). A seeded 1% of the unique sentences are held out: their tokens are queries
   (half tune, half evaluation) and never enter the index.
2. ``exact`` (own process): brute-force top-k over the base for every query (faiss IndexFlatIP in
   blocks, float32), timed; the ground truth.
3. ``ann`` (own process per ``--key``; ``auto`` = the project's memory-budgeted choice):
   ``VectorIndex.build`` streamed from the float16 matrix (read with ``pread``: no memory map
   whose pages would count in RSS, no full float32 copy besides the index), tuned for each k the
   caller needs (1 and 10; ``--targets`` per k) on the tuning queries against the exact step's
   ground truth (no exact search in this process), then timed on the evaluation queries.
   Recall@k counts a returned row as a hit when its exact similarity is >= the exact k-th
   similarity - 1e-6 (ties are not misses). Every figure carries the load average.
   ``report``: the table of every index run for a table/layer (``ann_bench.json`` and markdown),
   each paired with the exact runs just before and after it (docs/ann.md).
4. ``mine`` (sentence table only): margin mining (ratio margin, k=4, both directions) of the
   Tatoeba pairs with exact vs ANN k-NN, F1 against the Tatoeba gold pairs.

Run: ``python benchmarks/ann_bench.py all [--threads 2]``; figures in ``--work``/ann_bench.json;
``--limit N``: the first N base rows only (exploration). Measured figures: docs/ann.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MBERT_LAB_DATA", str(ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(ROOT))
LAYERS = (8, 12)
TIE_EPS = 1e-6


def log(*a: object) -> None:
    print(time.strftime("%H:%M:%S"), *a, file=sys.stderr, flush=True)


def peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def set_threads(n: int) -> None:
    import faiss
    import torch

    torch.set_num_threads(n)
    faiss.omp_set_num_threads(n)


# ----------------------------------------------------------------------------- prepare
def unique_sentences() -> tuple[list[str], list[str], dict]:
    """Unique Tatoeba texts (first language seen), and the gold pairs by index."""
    from mbert_lab.data.datasets import load_tatoeba, tatoeba_languages

    index: dict[str, int] = {}
    texts: list[str] = []
    langs: list[str] = []
    gold: dict[str, list[tuple[int, int]]] = {}

    def add(t: str, lang: str) -> int:
        if t not in index:
            index[t] = len(texts)
            texts.append(t)
            langs.append(lang)
        return index[t]

    for lang in tatoeba_languages():
        pairs = load_tatoeba(lang, empty="skip").pairs
        gold[lang] = [(add(p.src, lang), add(p.tgt, "eng")) for p in pairs]
    return texts, langs, gold


def prepare(args: argparse.Namespace) -> None:
    from mbert_lab.encode import default_store
    from mbert_lab.encode.extractor import ExtractConfig, Extractor
    from mbert_lab.models.registry import load_encoder

    set_threads(args.threads)
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    texts, langs, gold = unique_sentences()
    log(f"{len(texts)} unique sentences in {len(gold)} Tatoeba sets")
    enc = load_encoder(args.model)
    cfg = ExtractConfig(layers=LAYERS, outputs=("sentence", "subword"), batch_size=64,
                        dtype=args.dtype, store_dtype="float16")
    ex = Extractor(enc, cfg, store=default_store(), progress=True)
    counts = [len(x) for x in enc.tokenizer(texts, add_special_tokens=False)["input_ids"]]
    total = int(sum(counts))
    log(f"{total} word pieces")
    d = enc.hidden_size
    tok = {L: np.lib.format.open_memmap(work / f"tok_L{L}.npy", "w+", np.float16, (total, d)) for L in LAYERS}
    sent = {L: np.lib.format.open_memmap(work / f"sent_L{L}.npy", "w+", np.float16, (len(texts), d)) for L in LAYERS}
    owner = np.repeat(np.arange(len(texts), dtype=np.int32), counts)
    pos = 0
    t0 = time.perf_counter()
    for lo in range(0, len(texts), 4096):
        c = ex.encode(texts[lo : lo + 4096])
        for L in LAYERS:
            sent[L][lo : lo + len(c)] = c.sentence(L)
        p = pos
        for i in range(len(c)):
            rows = c.subwords(i, LAYERS[0])
            if len(rows) != counts[lo + i]:
                raise SystemExit(f"sentence {lo + i}: {len(rows)} vectors, {counts[lo + i]} pieces")
            for L in LAYERS:
                tok[L][p : p + len(rows)] = c.subwords(i, L)
            p += len(rows)
        pos = p
        log(f"{lo + len(c)}/{len(texts)} sentences, {pos}/{total} pieces, {time.perf_counter() - t0:.0f} s")
    for m in [*tok.values(), *sent.values()]:
        m.flush()
    np.save(work / "token_sentence.npy", owner)
    rng = np.random.default_rng(args.seed)
    held = np.zeros(len(texts), bool)
    held[rng.choice(len(texts), max(2, len(texts) // 100), replace=False)] = True
    np.save(work / "held_sentences.npy", held)
    meta = {"n_sentences": len(texts), "n_tokens": total, "dim": d, "dtype": args.dtype,
            "store": "float16", "model": args.model, "layers": list(LAYERS),
            "encode_seconds": time.perf_counter() - t0, "langs": langs,
            "gold": {k: v for k, v in gold.items()}}
    (work / "prepared.json").write_text(json.dumps(meta))
    log("prepared", {k: v for k, v in meta.items() if k not in ("langs", "gold")})


# ----------------------------------------------------------------------------- split
class RawRows:
    """Rows of a 2-D float16 ``.npy`` file read with ``pread``, not memory-mapped: the pages read
    stay in the page cache and are not counted in this process's RSS (a memory map's are)."""

    def __init__(self, path: Path) -> None:
        with open(path, "rb") as f:
            version = np.lib.format.read_magic(f)
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, fortran, self.dtype = read(f)
            self.offset = f.tell()
        if fortran or len(shape) != 2:
            raise SystemExit(f"{path}: expected a C-ordered 2-D array")
        self.shape = shape
        self.row_bytes = shape[1] * self.dtype.itemsize
        self.fd = os.open(path, os.O_RDONLY)

    def range(self, lo: int, hi: int) -> np.ndarray:
        """Rows lo..hi-1 as stored (float16)."""
        want = (hi - lo) * self.row_bytes
        buf = bytearray(want)
        view, got = memoryview(buf), 0
        while got < want:
            n = os.preadv(self.fd, [view[got:]], self.offset + lo * self.row_bytes + got)
            if n <= 0:
                raise SystemExit("short read")
            got += n
        return np.frombuffer(buf, self.dtype).reshape(hi - lo, self.shape[1])

    def take(self, rows: np.ndarray, span: int = 65536) -> np.ndarray:
        """Rows at sorted indices, as float32, read by runs of at most ``span`` rows."""
        out = np.empty((len(rows), self.shape[1]), np.float32)
        i = 0
        while i < len(rows):
            j = int(np.searchsorted(rows, rows[i] + span, side="left"))
            r = rows[i:j]
            out[i:j] = self.range(int(r[0]), int(r[-1]) + 1)[r - r[0]]
            i = j
        return out

    def at(self, rows: np.ndarray) -> np.ndarray:
        """Rows at any indices (one read each), as float32."""
        return np.stack([self.range(int(r), int(r) + 1)[0] for r in rows]).astype(np.float32)


def split(work: Path, table: str, layer: int, n_queries: int, seed: int, limit: int = 0):
    """(base rows reader, base row ids, tune queries, eval queries) for a table; ``limit``: only
    the first ``limit`` base rows (exploration on a subsample; the queries stay the same)."""
    held = np.load(work / "held_sentences.npy")
    if table == "tokens":
        x = RawRows(work / f"tok_L{layer}.npy")
        owner = np.load(work / "token_sentence.npy")
        is_q = held[owner]
    else:
        x = RawRows(work / f"sent_L{layer}.npy")
        is_q = held
    base_rows = np.nonzero(~is_q)[0]
    if limit:
        base_rows = base_rows[:limit]
    q_rows = np.nonzero(is_q)[0]
    rng = np.random.default_rng(seed)
    pick = rng.choice(q_rows, min(len(q_rows), 2 * n_queries), replace=False)
    q = normalise(x.at(np.sort(pick)))
    rng.shuffle(q)
    return x, base_rows, q[: len(q) // 2], q[len(q) // 2 :]


def normalise(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12), np.float32)


def base_blocks(x: RawRows, rows: np.ndarray, block: int = 131072):
    for lo in range(0, len(rows), block):
        yield lo, normalise(x.take(rows[lo : lo + block]))


def tag(args: argparse.Namespace) -> str:
    return f"{args.table}_L{args.layer}" + (f"_n{args.limit}" if args.limit else "")


def load_info() -> dict:
    """The machine's load (``uptime``'s 1/5/15-minute averages) next to every figure."""
    return {"loadavg": [round(v, 2) for v in os.getloadavg()], "utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


# ----------------------------------------------------------------------------- exact
def exact(args: argparse.Namespace) -> None:
    """Brute force over the whole base held in memory as normalised float32 (one IndexFlatIP,
    BLAS matrix products); only the search is timed."""
    import faiss

    set_threads(args.threads)
    work = Path(args.work)
    x, rows, qt, qe = split(work, args.table, args.layer, args.queries, args.seed, args.limit)
    kmax = max(args.k)
    flat = faiss.IndexFlatIP(x.shape[1])
    for _, xb in base_blocks(x, rows):
        flat.add(xb)
    out = {}
    start = load_info()
    for name, q in (("tune", qt), ("eval", qe)):
        times = []
        for _ in range(2):
            t0 = time.perf_counter()
            s_, i_ = flat.search(q, kmax)
            times.append(time.perf_counter() - t0)
        out[name] = (s_, i_, min(times))
    np.savez(work / f"exact_{tag(args)}.npz", tune_s=out["tune"][0], tune_i=out["tune"][1],
             eval_s=out["eval"][0], eval_i=out["eval"][1])
    res = {"n_base": len(rows), "eval_queries": len(qe), "seconds_eval": out["eval"][2],
           "qps": len(qe) / out["eval"][2], "peak_rss_gib": peak_rss_gib(), "threads": args.threads,
           "load_start": start, "load_end": load_info(),
           "method": "faiss IndexFlatIP over the normalised float32 base in memory (best of 2)"}
    (work / f"exact_{tag(args)}.json").write_text(json.dumps(res, indent=2))
    with open(work / f"exact_{tag(args)}_runs.jsonl", "a") as f:  # every run: the report pairs each index with
        f.write(json.dumps(res) + "\n")  # the exact runs just before and after it (same period, same load)
    log("exact", res)


# ----------------------------------------------------------------------------- ann
def recall_ties(q: np.ndarray, ids: np.ndarray, exact_s: np.ndarray, k: int, x: RawRows, rows: np.ndarray) -> float:
    """Share of the k returned rows whose true similarity >= exact k-th similarity - 1e-6."""
    kth = exact_s[:, k - 1]
    got = ids[:, :k]
    uniq = np.unique(got[got >= 0])
    vec = dict(zip(uniq.tolist(), normalise(x.at(rows[uniq]))))
    hits = 0
    for qi in range(len(q)):
        g = got[qi][got[qi] >= 0]
        if len(g):
            v = np.stack([vec[int(i)] for i in g])
            hits += int(np.sum(v @ q[qi] >= kth[qi] - TIE_EPS))
    return hits / (k * len(q))


def ann(args: argparse.Namespace) -> None:
    """One index (``--key``, 'auto' = the project's choice) in this process: build (streamed
    from the float16 file), tune for each k and target on the tuning queries against the exact
    step's ground truth (no exact search here), time on the evaluation queries."""
    from mbert_lab.index.faiss_index import VectorIndex

    set_threads(args.threads)
    work = Path(args.work)
    key = args.key[0] if isinstance(args.key, list) else args.key
    x, rows, qt, qe = split(work, args.table, args.layer, args.queries, args.seed, args.limit)
    ex = np.load(work / f"exact_{tag(args)}.npz")
    ex_info = json.loads((work / f"exact_{tag(args)}.json").read_text())
    raw_bytes = len(rows) * x.shape[1] * 4
    start = load_info()
    t0 = time.perf_counter()
    idx = VectorIndex.build(BaseView(x, rows), ItemRows(len(rows)), key=key, memory_budget=args.memory,
                            threads=args.threads, seed=args.seed)
    build_s = time.perf_counter() - t0
    rss_build = peak_rss_gib()
    log(f"built {idx.meta.key} over {len(rows)} in {build_s:.0f} s, peak RSS {rss_build:.2f} GiB")
    size = idx.memory_bytes()
    res = {"key_asked": key, "index": idx.meta.key, "kind": idx.meta.kind, "reason": idx.meta.extra.get("plan_reason"),
           "n_base": len(rows), "dim": int(x.shape[1]), "threads": args.threads, "memory_budget": args.memory,
           "build_seconds": build_s, "raw_float32_gib": raw_bytes / 2**30,
           "exact_qps": ex_info["qps"], "exact_load": ex_info.get("load_start"),
           "index_gib": size / 2**30, "bytes_per_vector": size / len(rows), "peak_rss_build_gib": rss_build,
           "load_start": start, "tune_queries": len(qt), "eval_queries": len(qe), "rows": []}
    for k in args.k:
        for target in targets_for(args.targets, k):
            tune = idx.tune(qt, target_recall=target, k=k, prepared=True, exact=ex["tune_i"])
            times = []
            for _ in range(3):
                t1 = time.perf_counter()
                _, ids = idx.search_raw(qe, k, prepared=True)
                times.append(time.perf_counter() - t1)
            qps = len(qe) / min(times)
            r = {"k": k, "target": target, "params": tune.params, "tune_recall": tune.recall,
                 "recall@1": recall_ties(qe, ids[:, :1], ex["eval_s"], 1, x, rows),
                 f"recall@{k}": recall_ties(qe, ids, ex["eval_s"], k, x, rows),
                 "qps": qps, "speedup_vs_exact": qps / ex_info["qps"], "load": load_info(),
                 "candidates": tune.candidates}
            res["rows"].append(r)
            log({k_: v for k_, v in r.items() if k_ != "candidates"})
    res["peak_rss_gib"] = peak_rss_gib()
    res["peak_rss_over_raw"] = res["peak_rss_gib"] / res["raw_float32_gib"]
    res["load_end"] = load_info()
    slug = "".join(c if c.isalnum() else "_" for c in key)
    (work / f"ann_{tag(args)}_{slug}.json").write_text(json.dumps(res, indent=2))
    log("ann", {k: v for k, v in res.items() if k != "rows"})


def parse_targets(s: str) -> dict[int, list[float]]:
    """'0.98,0.95' (every k) or '1=0.985/0.98,10=0.96/0.95' (per k) -> {k or 0: targets}."""
    if "=" not in s:
        return {0: [float(v) for v in s.split(",")]}
    return {int(k): [float(v) for v in t.split("/")] for k, t in (p.split("=") for p in s.split(","))}


def targets_for(targets: dict[int, list[float]], k: int) -> list[float]:
    return targets.get(k, targets.get(0, [0.95]))


def report(args: argparse.Namespace) -> None:
    """Every ``ann_<table>_L<layer>*.json`` of ``--work`` (this table, layer and limit) in one
    table: ``ann_bench.json`` (``tables`` by tag) and a markdown table on stdout."""
    work = Path(args.work)
    t = tag(args)
    rows_out = []
    runs_file = work / f"exact_{t}_runs.jsonl"
    runs = [json.loads(ln) for ln in runs_file.read_text().splitlines()] if runs_file.exists() else []
    for f in sorted(work.glob(f"ann_{t}_*.json")):
        r = json.loads(f.read_text())
        if "rows" not in r or (not args.limit and re.match(rf"ann_{t}_n\d", f.stem)):
            continue  # a subsample's figures are not the full table's
        near = exact_around(runs, r["load_start"]["utc"], r["load_end"]["utc"]) or [
            {"qps": r["exact_qps"], "load_start": r.get("exact_load") or {}}]
        exact_qps = float(np.mean([e["qps"] for e in near]))
        r["exact_runs"] = [{"qps": e["qps"], "load": e["load_start"].get("loadavg"), "utc": e["load_start"].get("utc")}
                           for e in near]
        for row in r["rows"]:
            rows_out.append({
                "index": r["index"], "asked": r.get("key_asked"), "build_s": round(r["build_seconds"], 1),
                "bytes_per_vector": round(r["bytes_per_vector"], 1), "k": row["k"], "target": row["target"],
                "params": row.get("params", row.get("param")), "recall@1": round(row["recall@1"], 4),
                "recall@10": round(row["recall@10"], 4) if "recall@10" in row else None,
                "qps": round(row["qps"]), "x_exact": round(row["qps"] / exact_qps, 1),
                "exact_qps": round(exact_qps, 1), "exact_runs": r["exact_runs"], "peak_rss_gib": round(r["peak_rss_gib"], 2),
                "rss_x_raw": round(r["peak_rss_over_raw"], 2), "load": row.get("load", {}).get("loadavg"),
                "exact_load": [e["load"] for e in r["exact_runs"]], "n_base": r["n_base"]})
    path = work / "ann_bench.json"
    allt = json.loads(path.read_text()) if path.exists() else {}
    allt.setdefault("tables", {})[t] = rows_out
    path.write_text(json.dumps(allt, indent=2))
    head = ["index", "build s", "B/vec", "k", "tuned for", "params", "R@1", "R@10", "q/s", "exact q/s", "x exact",
            "peak RSS GiB (x raw)", "load 1m: index (exact)"]
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for r in rows_out:
        p = ", ".join(f"{k}={v}" for k, v in (r["params"] or {}).items())
        r10 = "" if r["recall@10"] is None else f"{r['recall@10']:.3f}"
        el = ", ".join(f"{e[0]:.1f}" for e in r["exact_load"] if e)
        ld = f"{r['load'][0]:.1f} ({el})" if r["load"] else ""
        print(f"| {r['index']} | {r['build_s']:.0f} | {r['bytes_per_vector']:.0f} | {r['k']} | R@{r['k']} {r['target']} | "
              f"{p} | {r['recall@1']:.3f} | {r10} | {r['qps']} | {r['exact_qps']:.0f} | {r['x_exact']:.1f} | "
              f"{r['peak_rss_gib']:.2f} ({r['rss_x_raw']:.2f}x) | {ld} |")


def exact_around(runs: list[dict], start: str, end: str) -> list[dict]:
    """The exact runs just before ``start`` and just after ``end`` (ISO UTC times)."""
    before = [e for e in runs if e["load_end"]["utc"] <= start]
    after = [e for e in runs if e["load_start"]["utc"] >= end]
    return ([before[-1]] if before else []) + ([after[0]] if after else [])


class BaseView:
    """The base rows of a float16 file as a 2-D array-like (slices and sorted index arrays),
    read on demand: ``VectorIndex.build`` streams it, no float32 copy of the whole is made."""

    def __init__(self, x: RawRows, rows: np.ndarray) -> None:
        self.x, self.rows = x, rows
        self.shape = (len(rows), x.shape[1])
        self.ndim = 2

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, sel) -> np.ndarray:
        r = self.rows[sel]
        if len(r) == 0:
            return np.zeros((0, self.shape[1]), np.float32)
        return self.x.take(np.asarray(r))


class ItemRows:
    """Lazy metadata rows (one per vector) so 1.5M Python objects are not held in memory."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i):
        from mbert_lab.index.faiss_index import Item

        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(self.n))]
        if not 0 <= int(i) < self.n:
            raise IndexError(i)
        return Item("xx", str(int(i)), "")

    def __iter__(self):
        from mbert_lab.index.faiss_index import Item

        return (Item("xx", str(i), "") for i in range(self.n))


# ----------------------------------------------------------------------------- mine
def mine_step(args: argparse.Namespace) -> None:
    """Margin mining of every Tatoeba pair at once: all non-English unique sentences against
    all English ones, k-NN both ways by exact search and by the project's index (tuned for the
    k the margin needs), the same margin code on both; F1 at the best threshold vs the gold."""
    from mbert_lab.analyses.retrieval import MineMode, knn, mine_from_neighbours, score_pairs
    from mbert_lab.index.faiss_index import Item, VectorIndex

    set_threads(args.threads)
    work = Path(args.work)
    meta = json.loads((work / "prepared.json").read_text())
    langs = np.array(meta["langs"])
    x_rows, y_rows = np.nonzero(langs != "eng")[0], np.nonzero(langs == "eng")[0]
    pos_x = {int(r): i for i, r in enumerate(x_rows)}
    pos_y = {int(r): i for i, r in enumerate(y_rows)}
    gold = {(pos_x[a], pos_y[b]) for pairs in meta["gold"].values() for a, b in pairs if a in pos_x and b in pos_y}
    sent = np.load(work / f"sent_L{args.layer}.npy", mmap_mode="r")
    xn, yn = normalise(np.asarray(sent[x_rows], np.float32)), normalise(np.asarray(sent[y_rows], np.float32))
    k = args.margin_k
    out: dict = {"layer": args.layer, "n_src": len(xn), "n_tgt": len(yn), "gold_pairs": len(gold), "margin_k": k}
    t0 = time.perf_counter()
    sx, ix = knn(xn, yn, k, normalized=True)
    sy, iy = knn(yn, xn, k, normalized=True)
    out["exact_seconds"] = time.perf_counter() - t0
    exact = score_pairs(mine_from_neighbours(sx, ix, sy, iy, k, "ratio", ["max"])[MineMode.MAX], gold)
    out["exact_f1"] = exact.f1
    for target in targets_for(args.targets, k):
        t0 = time.perf_counter()
        iy_idx = VectorIndex.build(yn, [Item("eng", str(i), "") for i in range(len(yn))], key=args.key[0],
                                   memory_budget=args.memory, threads=args.threads, seed=args.seed,
                                   hold_out=1000, target_recall=target, tune_k=k)
        ix_idx = VectorIndex.build(xn, [Item("xx", str(i), "") for i in range(len(xn))], key=args.key[0],
                                   memory_budget=args.memory, threads=args.threads, seed=args.seed,
                                   hold_out=1000, target_recall=target, tune_k=k)
        build = time.perf_counter() - t0
        t0 = time.perf_counter()
        asx, aix = iy_idx.search_raw(xn, k, prepared=True)
        asy, aiy = ix_idx.search_raw(yn, k, prepared=True)
        # the index returns input rows (held-out tuning rows included): no mapping needed
        secs = time.perf_counter() - t0
        got = score_pairs(mine_from_neighbours(asx, aix, asy, aiy, k, "ratio", ["max"])[MineMode.MAX], gold)
        row = {"target_recall": target, "index": iy_idx.meta.key, "params": iy_idx.meta.search_params,
               "build_seconds": build, "search_seconds": secs, "speedup_vs_exact": out["exact_seconds"] / secs,
               "f1": got.f1, "f1_delta_points": 100 * (got.f1 - exact.f1)}
        out.setdefault("ann", []).append(row)
        log(row)
    out["peak_rss_gib"] = peak_rss_gib()
    (work / f"mine_L{args.layer}.json").write_text(json.dumps(out, indent=2))
    log("mine", {k_: v for k_, v in out.items() if k_ != "ann"})


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("step", choices=("prepare", "exact", "ann", "mine", "report", "all"))
    ap.add_argument("--work", default=str(ROOT / "results" / "bench" / "ann"))
    ap.add_argument("--model", default="offline")
    ap.add_argument("--dtype", default="bf16", help="compute dtype of the vectors (prepare)")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--table", choices=("tokens", "sentences"), default="tokens")
    ap.add_argument("--layer", type=int, default=8, choices=LAYERS)
    ap.add_argument("--limit", type=int, default=0, help="only the first N base rows (exploration; 0: all)")
    ap.add_argument("--queries", type=int, default=1000, help="eval queries (as many again to tune)")
    ap.add_argument("--k", type=lambda s: [int(v) for v in s.split(",")], default=[1, 10])
    ap.add_argument("--targets", default="0.98,0.95",
                    help="recall targets to tune for: '0.98,0.95' (every k) or '1=0.985/0.98,10=0.96/0.95' (per k)")
    ap.add_argument("--key", action="append", default=None,
                    help="FAISS factory string, or auto (the project's choice); repeat for several, each "
                         "built in its own process (default: auto)")
    ap.add_argument("--memory", default="4G", help="memory budget for the index choice (index build's default)")
    ap.add_argument("--margin-k", type=int, default=4, help="margin neighbourhood (mine)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    args.key = args.key or ["auto"]
    me = [sys.executable, __file__]
    opts = ["--work", args.work, "--threads", str(args.threads), "--queries", str(args.queries),
            "--seed", str(args.seed), "--memory", args.memory, "--limit", str(args.limit),
            "--k", ",".join(map(str, args.k)), "--targets", args.targets]
    args.targets = parse_targets(args.targets)
    if args.step == "ann" and len(args.key) > 1:  # one process per index: its own peak RSS
        t = ["--table", args.table, "--layer", str(args.layer)]
        for key in args.key:
            subprocess.run([*me, "ann", *opts, *t, "--key", key], check=True)
        return 0
    if args.step == "all":
        keys = [a for key in args.key for a in ("--key", key)]
        if not (Path(args.work) / "prepared.json").exists():
            subprocess.run([*me, "prepare", *opts, "--dtype", args.dtype, "--model", args.model], check=True)
        for table in ("tokens", "sentences"):
            for layer in LAYERS:
                t = ["--table", table, "--layer", str(layer)]
                subprocess.run([*me, "exact", *opts, *t], check=True)
                subprocess.run([*me, "ann", *opts, *t, *keys], check=True)
                subprocess.run([*me, "report", *opts, *t], check=True)
        for layer in LAYERS:
            subprocess.run([*me, "mine", *opts, *keys[:2], "--layer", str(layer)], check=True)
        return 0
    {"prepare": prepare, "exact": exact, "ann": ann, "mine": mine_step, "report": report}[args.step](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
