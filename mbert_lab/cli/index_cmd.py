"""``mbert-lab index build|search|mine|eval``: FAISS indexes, bitext mining, retrieval evaluation.

Wiring only: data -> extractor -> :mod:`mbert_lab.index.faiss_index` /
:mod:`mbert_lab.analyses.retrieval` -> result records. Heavy imports happen in the handlers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EPILOG = """examples:
  # index every Tatoeba sentence of three languages and their English sides (layer 12)
  mbert-lab index build --tatoeba deu,fra,cmn --layer 12 --out results/index/tatoeba3
  # index your own sentences: one 'lang<TAB>text' (or 'lang<TAB>id<TAB>text') per line
  mbert-lab index build --input sents.tsv --transform center --memory 8G --out results/index/mine
  # a word index (every word occurrence), or one vector per word form (averaged over contexts)
  mbert-lab index build --input sents.tsv --unit word-type --out results/index/words
  mbert-lab index build --input more.tsv --append --out results/index/mine   # incremental add
  mbert-lab index search --index results/index/tatoeba3 --lang en --to de,fr -k 5 "Where is the station?"
  # margin-based mining between two files; with gold pairs: F1 at the F1-optimal threshold
  mbert-lab index mine --src de.txt --tgt en.txt --src-lang de --tgt-lang en --out pairs.tsv
  mbert-lab index mine --src de.tsv --tgt en.tsv --with-ids --gold gold.tsv --out pairs.tsv
  # evaluations (results under results/retrieval/)
  mbert-lab index eval tatoeba                # every mirror language, layer sweep, +/- centering
  mbert-lab index eval bli --pair de-en       # MUSE word translation, overall and per POS
  mbert-lab index eval pool                   # mining F1 on all Tatoeba languages shuffled together
  mbert-lab index eval recall --index results/index/tatoeba3 -k 10
"""

TATOEBA_LAYERS = tuple(range(13))


# ============================================================================ shared helpers


def set_threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)
    try:
        import faiss

        faiss.omp_set_num_threads(n)
    except ImportError:  # pragma: no cover
        pass


def load_model(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from ..models.registry import load_encoder

    return load_encoder(args.model, revision=getattr(args, "revision", None), device=getattr(args, "device", "cpu"))


def make_extractor(enc: Any, layers: Sequence[int], outputs: Sequence[str], cache: bool = True,
                   progress: bool = True):  # type: ignore[no-untyped-def]
    from ..encode import default_store
    from ..encode.extractor import ExtractConfig, Extractor

    return Extractor(enc, ExtractConfig(layers=tuple(layers), outputs=tuple(outputs)),
                     store=default_store() if cache else None, progress=progress)


def tatoeba_languages() -> list[str]:
    from ..data.formats import tatoeba_languages as langs

    return langs()


def tatoeba_files(lang: str) -> tuple[Path, Path]:
    from ..data.registry import require_file

    return (require_file("tatoeba", f"tatoeba/v1/tatoeba.{lang}-eng.{lang}", None),
            require_file("tatoeba", f"tatoeba/v1/tatoeba.{lang}-eng.eng", None))


def encode_tatoeba(enc: Any, langs: Sequence[str], progress: bool = True, cache: bool = True) -> dict[str, tuple[Any, Any]]:
    """lang -> (xx side, English side) encoded corpora.

    The one Tatoeba extraction of the project (shared with the centroids analysis through
    the vector store): all 13 layers, sentence outputs, each file encoded on its own as the
    full list of its lines in file order, raw text, no prefix.
    """
    from ..data.formats import read_lines

    ex = make_extractor(enc, TATOEBA_LAYERS, ("sentence",), cache=cache, progress=False)
    out = {}
    it = langs
    if progress:
        from tqdm import tqdm

        it = tqdm(langs, desc="tatoeba languages", file=sys.stderr)
    for lang in it:
        fx, fe = tatoeba_files(lang)
        out[lang] = (ex.encode(read_lines(fx), desc=f"tatoeba {lang}"), ex.encode(read_lines(fe), desc=f"tatoeba {lang}-eng"))
    return out


def read_sentences_tsv(path: str | Path) -> list[tuple[str, str, str]]:
    """'lang<TAB>text' or 'lang<TAB>id<TAB>text' per line -> (lang, id, text); id defaults to
    the line number."""
    from ..data.formats import read_lines
    from ..errors import InputError

    rows = []
    for n, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        cols = line.split("\t")
        if len(cols) == 2:
            lang, text = cols
            sid = str(n)
        elif len(cols) == 3:
            lang, sid, text = cols
        else:
            raise InputError("expected 'lang<TAB>text' or 'lang<TAB>id<TAB>text'", path, n)
        if not lang.strip() or not text.strip():
            raise InputError("empty language or text", path, n)
        rows.append((lang.strip(), sid, text))
    if not rows:
        raise InputError("no sentences in the file", path)
    return rows


def read_id_lines(path: str | Path, with_ids: bool) -> tuple[list[str], list[str]]:
    """(ids, texts): plain lines (id = 1-based line number) or 'id<TAB>text' lines (BUCC)."""
    from ..data.formats import read_lines
    from ..errors import InputError

    ids, texts = [], []
    for n, line in enumerate(read_lines(path), 1):
        if with_ids:
            i, sep, t = line.partition("\t")
            if not sep or not i.strip():
                raise InputError("expected 'id<TAB>text'", path, n)
        else:
            i, t = str(n), line
        if not t.strip():
            raise InputError("empty sentence", path, n)
        ids.append(i.strip())
        texts.append(t)
    if not texts:
        raise InputError("no sentences in the file", path)
    return ids, texts


def read_gold_pairs(path: str | Path) -> list[tuple[str, str]]:
    """'src_id<TAB>tgt_id' per line (BUCC gold format)."""
    from ..data.formats import read_lines
    from ..errors import InputError

    out = []
    for n, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        cols = line.split("\t") if "\t" in line else line.split()
        if len(cols) != 2:
            raise InputError("expected 'src_id<TAB>tgt_id'", path, n)
        out.append((cols[0].strip(), cols[1].strip()))
    if not out:
        raise InputError("no gold pairs in the file", path)
    return out


def word_vectors(enc: Any, sentences: Sequence[str], layer: int, cache: bool = True) -> tuple[list[Any], Any]:
    """Every word occurrence's vector (mean of its pieces, as the extractor pools words)."""
    import numpy as np

    ex = make_extractor(enc, (layer,), ("word",), cache=cache)
    corp = ex.encode(list(sentences))
    words = [corp.words_text(i) for i in range(len(corp))]
    mat = corp.word_matrix(layer) if len(corp) else np.zeros((0, enc.hidden_size), np.float32)
    return words, mat


def isolated_word_vectors(enc: Any, words: Sequence[str], layers: Sequence[int], cache: bool = True,
                          progress: bool = True) -> dict[int, Any]:
    """Each word encoded alone (a 1-word pre-tokenized input): layer -> [n_words, H], the
    extractor's word vector = mean of the word's subword vectors, no special tokens."""
    import numpy as np

    ex = make_extractor(enc, layers, ("word",), cache=cache, progress=progress)
    corp = ex.encode([[w] for w in words], pretokenized=True)
    return {la: np.stack([corp.words(i, la)[0] for i in range(len(corp))]) for la in layers}


# ============================================================================ parser


def add_parser(sub: argparse._SubParsersAction) -> None:
    from .common import add_model_options

    p = sub.add_parser(
        "index",
        help="FAISS indexes, neighbour search, bitext mining, Tatoeba/BUCC/BLI evaluation",
        description="Build and query FAISS indexes of sentence or word vectors; mine bitext with "
        "LASER-style margins; evaluate cross-lingual retrieval.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(func=lambda a: (p.print_help(), 0)[1])
    ss = p.add_subparsers(dest="index_command", metavar="ACTION")

    def common(q: argparse.ArgumentParser, layers_default: str = "12") -> None:
        add_model_options(q, layers_default=layers_default)
        q.set_defaults(threads=2)  # --threads comes with the model options

    b = ss.add_parser("build", help="build an index", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    src = b.add_mutually_exclusive_group(required=True)
    src.add_argument("--input", help="TSV file: 'lang<TAB>text' or 'lang<TAB>id<TAB>text' per line")
    src.add_argument("--tatoeba", help="'all' or Tatoeba codes 'deu,fra': both sides of each set")
    b.add_argument("--out", required=True, help="index directory to write")
    b.add_argument("--layer", type=int, default=12, help="layer whose vectors are indexed (default 12)")
    b.add_argument("--unit", default="sentence", choices=("sentence", "word", "word-type"),
                   help="sentence vectors (mean pooling), every word occurrence, or one vector per "
                   "(language, word form) averaged over its contexts")
    b.add_argument("--transform", default="none", help="none | center (subtract each language's mean)")
    b.add_argument("--key", default="auto", help="'auto' or a FAISS factory string, e.g. 'IVF1024,PQ32'")
    b.add_argument("--memory", default="4G", help="memory budget for the index (default 4G)")
    b.add_argument("--target-recall", type=float, default=0.95, help="tune nprobe/efSearch to this recall@1")
    b.add_argument("--hold-out", type=int, default=1000, help="vectors held back for tuning (default 1000)")
    b.add_argument("--append", action="store_true",
                   help="add the input's vectors to the existing index at --out (same model, layer, unit)")
    common(b)
    b.set_defaults(func=run_build)

    s = ss.add_parser("search", help="query an index with text", epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_query_options(s)
    common(s)
    s.set_defaults(func=run_search)

    m = ss.add_parser("mine", help="margin-based bitext mining between two files", epilog=EPILOG,
                      formatter_class=argparse.RawDescriptionHelpFormatter)
    m.add_argument("--src", required=True, help="source sentences (one per line, or 'id<TAB>text' with --with-ids)")
    m.add_argument("--tgt", required=True, help="target sentences")
    m.add_argument("--with-ids", action="store_true", help="lines are 'id<TAB>text' (BUCC layout)")
    m.add_argument("--src-lang", default="src")
    m.add_argument("--tgt-lang", default="tgt")
    m.add_argument("--gold", help="gold pairs 'src_id<TAB>tgt_id': report F1 at the F1-optimal threshold")
    m.add_argument("--margin", default="ratio", help="ratio | distance | absolute (default ratio)")
    m.add_argument("--mode", default="max", help="forward | backward | max | intersect (default max)")
    m.add_argument("-k", type=int, default=4, help="neighbourhood size of the margin (default 4)")
    m.add_argument("--threshold", default="auto",
                   help="keep pairs scoring >= this; 'auto' = F1-optimal with --gold, else keep all")
    m.add_argument("--layer", type=int, default=12)
    m.add_argument("--transform", default="none", help="none | center")
    m.add_argument("--out", required=True, help="TSV of mined pairs: score, src id, tgt id, src, tgt")
    common(m)
    m.set_defaults(func=run_mine)

    e = ss.add_parser("eval", help="tatoeba | bli | pool | recall", epilog=EPILOG,
                      formatter_class=argparse.RawDescriptionHelpFormatter)
    e.add_argument("what", choices=("tatoeba", "bli", "pool", "recall"))
    e.add_argument("--langs", default="all", help="Tatoeba languages ('all' or 'deu,fra')")
    e.add_argument("--pair", default="de-en", help="MUSE pair for bli (de-en, en-de, es-en, en-es)")
    e.add_argument("--eval-layers", default="all", help="layers to sweep ('all' or '8,12')")
    e.add_argument("--index", help="index directory (recall)")
    e.add_argument("-k", type=int, default=10, help="k for recall@k (default 10)")
    e.add_argument("--queries", type=int, default=1000, help="recall: sampled queries")
    e.add_argument("--out", default="results/retrieval", help="results folder (default results/retrieval)")
    common(e)
    e.set_defaults(func=run_eval)


def add_query_options(s: argparse.ArgumentParser) -> None:
    s.add_argument("text", nargs="*", help="query sentence(s); with --word, the context of the word")
    s.add_argument("--index", default="results/index/default", help="index directory (default results/index/default)")
    s.add_argument("--lang", required=True, help="language of the query (needed for centred indexes; shown)")
    s.add_argument("--to", default=None, help="only hits in these languages, e.g. de,fr,zh")
    s.add_argument("-k", type=int, default=10, help="hits per query (per language with --to)")
    s.add_argument("--word", default=None, help="query by word: the word in the given context text, "
                   "or alone when no text is given")
    s.add_argument("--mmap", action="store_true", help="memory-map the index (large indexes)")


# ============================================================================ build


def run_build(args: argparse.Namespace) -> int:
    import numpy as np

    from ..errors import ConfigError
    from ..index.faiss_index import Item, VectorIndex, as_transform

    set_threads(args.threads)
    as_transform(args.transform)
    if args.tatoeba:
        langs = _tatoeba_langs(args.tatoeba)
        from ..data.formats import read_lines

        rows = []
        for lang in langs:
            fx, fe = tatoeba_files(lang)
            rows += [(lang, f"{lang}:{i}", t) for i, t in enumerate(read_lines(fx), 1)]
            rows += [("eng", f"eng-{lang}:{i}", t) for i, t in enumerate(read_lines(fe), 1)]
    else:
        rows = read_sentences_tsv(args.input)
    enc = load_model(args)
    if not 0 <= args.layer <= enc.num_layers:
        raise ConfigError(f"--layer {args.layer} out of range 0..{enc.num_layers}")
    cache = not args.no_cache
    if args.unit == "sentence":
        if args.tatoeba:
            sets = encode_tatoeba(enc, langs, cache=cache)
            vecs = np.concatenate([np.concatenate([sets[lg][0].sentence(args.layer), sets[lg][1].sentence(args.layer)])
                                   for lg in langs])
        else:
            vecs = make_extractor(enc, (args.layer,), ("sentence",), cache).encode([r[2] for r in rows]).sentence(args.layer)
        items = [Item(*r) for r in rows]
    else:
        words, mat = word_vectors(enc, [r[2] for r in rows], args.layer, cache)
        occ = [(rows[i][0], f"{rows[i][1]}:{j}", w) for i, ws in enumerate(words) for j, w in enumerate(ws)]
        if args.unit == "word":
            items, vecs = [Item(*o) for o in occ], mat
        else:  # word-type: average the occurrences of each (language, word form)
            groups: dict[tuple[str, str], list[int]] = {}
            for r, (lang, _, w) in enumerate(occ):
                groups.setdefault((lang, w), []).append(r)
            keys = sorted(groups)
            vecs = np.stack([mat[groups[k]].mean(axis=0) for k in keys])
            items = [Item(lang, f"{len(groups[(lang, w)])} occurrences", w) for lang, w in keys]
    if args.append:
        from ..errors import InputError

        idx = VectorIndex.load(args.out, expect_model=_model_dict(enc), expect_dim=enc.hidden_size)
        if (idx.meta.layer, idx.meta.unit) != (args.layer, args.unit):
            raise InputError(f"the index holds layer {idx.meta.layer} {idx.meta.unit} vectors; "
                             f"--append needs --layer {idx.meta.layer} --unit {idx.meta.unit}", path=args.out)
        before = idx.meta.ntotal
        idx.add(vecs, items)
        idx.save(args.out)
        print(f"index {args.out}: added {idx.meta.ntotal - before} vectors, now {idx.meta.ntotal}")
        return 0
    idx = VectorIndex.build(
        vecs, items, key=args.key, memory_budget=args.memory, model=_model_dict(enc), layer=args.layer,
        unit=args.unit, pooling="mean", transform=args.transform, threads=args.threads,
        hold_out=min(args.hold_out, len(items) // 10), target_recall=args.target_recall,
    )
    idx.meta.extra["source"] = args.tatoeba and f"tatoeba:{args.tatoeba}" or str(args.input)
    idx.save(args.out)
    t = idx.meta.tuning
    tuned = f"; tuned {t['param']}={t['value']} (recall@1 {t['recall']:.3f} on {t['n_queries']} held-out queries)" if t.get("param") else ""
    print(f"index {args.out}: {idx.meta.ntotal} {args.unit} vectors, dim {idx.meta.dim}, {idx.meta.key} "
          f"({idx.meta.extra['plan_reason']}), built in {idx.meta.build_seconds:.1f} s{tuned}")
    return 0


def _model_dict(enc: Any) -> dict[str, Any]:
    import dataclasses

    return dataclasses.asdict(enc.provenance)


# ============================================================================ search / neighbours


def open_index_for(args: argparse.Namespace, enc: Any):  # type: ignore[no-untyped-def]
    from ..errors import InputError
    from ..index.faiss_index import VectorIndex

    d = Path(args.index)
    if not (d / "meta.json").exists():
        raise InputError(
            "no index here; build one first, e.g. 'mbert-lab index build --tatoeba deu,fra,cmn "
            f"--out {d}'", path=d)
    return VectorIndex.load(d, expect_model=_model_dict(enc), mmap=args.mmap, expect_dim=enc.hidden_size)


def query_vectors(args: argparse.Namespace, enc: Any, idx: Any) -> tuple[list[str], Any]:
    """(labels, vectors) for the query texts, by sentence or by word."""
    from ..errors import InputError

    texts = [t for t in (args.text or [])]
    layer = idx.meta.layer if idx.meta.layer is not None else 12
    if args.word is not None:
        if idx.meta.unit == "sentence":
            raise InputError("this index holds sentence vectors; query words against an index built with "
                             "--unit word or --unit word-type", path=args.index)
        w = args.word.strip()
        if not w or " " in w:
            raise InputError("--word takes one non-empty word")
        if not texts:  # out of context: the word encoded alone
            vec = isolated_word_vectors(enc, [w], (layer,), progress=False)[layer]
            return [f"'{w}' (alone)"], vec
        import numpy as np

        from ..data.formats import split_ascii_space

        labels, rows = [], []
        for t in texts:
            words = list(split_ascii_space(t))
            pos = [i for i, x in enumerate(words) if x == w or x.strip(".,;:!?\"'()") == w]
            if not pos:
                raise InputError(f"the word '{w}' does not occur in the context {t!r} (words are split at spaces)")
            ex = make_extractor(enc, (layer,), ("word",), progress=False)
            corp = ex.encode([words], pretokenized=True)
            rows.append(corp.words(0, layer)[pos[0]])
            labels.append(f"'{w}' in {t!r}")
        return labels, np.stack(rows)
    if not texts or not all(t.strip() for t in texts):
        raise InputError("empty query: give a non-empty sentence (or --word WORD)")
    if idx.meta.unit != "sentence":
        raise InputError("this is a word index; query it with --word WORD [context]", path=args.index)
    corp = make_extractor(enc, (layer,), ("sentence",), progress=False).encode(texts)
    return texts, corp.sentence(layer, idx.meta.pooling or "mean")


def print_hits(labels: Sequence[str], hits: list[list[Any]], to: list[str] | None, k: int) -> None:
    for label, hs in zip(labels, hits):
        print(f"query: {label}")
        groups = [(lg, [h for h in hs if h.lang == lg][:k]) for lg in to] if to else [(None, hs)]
        for lg, g in groups:
            if lg:
                print(f"  -> {lg}")
            for r, h in enumerate(g, 1):
                print(f"  {r:>3}  {h.lang:<5} {h.score:7.4f}  {h.text}")


def run_search(args: argparse.Namespace) -> int:
    from ..errors import ConfigError

    set_threads(args.threads)
    if args.k < 1:
        raise ConfigError("-k must be >= 1")
    enc = load_model(args)
    idx = open_index_for(args, enc)
    labels, q = query_vectors(args, enc, idx)
    to = [x.strip() for x in args.to.split(",") if x.strip()] if args.to else None
    if to:  # k per target language: search each separately so every language gets k hits
        per = [idx.search(q, k=args.k, langs=args.lang, to=[lg]) for lg in to]
        hits = [[h for p in per for h in p[i]] for i in range(len(labels))]
    else:
        hits = idx.search(q, k=args.k, langs=args.lang)
    print_hits(labels, hits, to, args.k)
    return 0


# ============================================================================ mine


def run_mine(args: argparse.Namespace) -> int:
    import numpy as np

    from ..analyses import retrieval as R
    from ..errors import ConfigError, InputError
    from ..io import atomic_open
    from ..results import Provenance, record

    set_threads(args.threads)
    R.as_margin(args.margin)
    R.as_mode(args.mode)
    sid, stext = read_id_lines(args.src, args.with_ids)
    tid, ttext = read_id_lines(args.tgt, args.with_ids)
    gold = None
    if args.gold:
        gp = read_gold_pairs(args.gold)
        si = {x: i for i, x in enumerate(sid)}
        ti = {x: i for i, x in enumerate(tid)}
        unknown = [(a, b) for a, b in gp if a not in si or b not in ti]
        if unknown:
            raise InputError(f"{len(unknown)} gold pairs name ids not in the input files, e.g. {unknown[0]}", args.gold)
        gold = {(si[a], ti[b]) for a, b in gp}
    enc = load_model(args)
    ex = make_extractor(enc, (args.layer,), ("sentence",), not args.no_cache)
    x = ex.encode(stext).sentence(args.layer)
    y = ex.encode(ttext).sentence(args.layer)
    if args.transform == "center":
        x, y = R.center(x), R.center(y)
    elif args.transform != "none":
        from ..errors import choice_error

        raise choice_error("transform", args.transform, ("none", "center"))
    pairs = R.mine(x, y, k=args.k, margin=args.margin, mode=args.mode)
    f1 = R.score_pairs(pairs, gold) if gold is not None else None
    if args.threshold == "auto":
        thr = f1.threshold if f1 is not None else -np.inf
    else:
        try:
            thr = float(args.threshold)
        except ValueError:
            raise ConfigError(f"--threshold must be 'auto' or a number, got {args.threshold!r}") from None
    kept = pairs.above(thr)
    with atomic_open(args.out, "w") as f:
        f.write("score\tsrc_id\ttgt_id\tsrc\ttgt\n")
        for s, t, sc in zip(kept.src, kept.tgt, kept.score):
            f.write(f"{sc:.6f}\t{sid[s]}\t{tid[t]}\t{stext[s]}\t{ttext[t]}\n")
    summary = {"src": args.src, "tgt": args.tgt, "n_src": len(stext), "n_tgt": len(ttext), "margin": args.margin,
               "mode": args.mode, "k": args.k, "layer": args.layer, "transform": args.transform,
               "threshold": thr if np.isfinite(thr) else None, "n_candidates": len(pairs), "n_kept": len(kept),
               "f1": f1.__dict__ if f1 else None}
    record("retrieval.mine", summary, Provenance.collect(config=vars_clean(args), model=enc.provenance,
                                                         layers=[args.layer], pooling="mean")).save(
        Path(args.out).with_suffix(".json"))
    msg = f"{len(kept)} of {len(pairs)} candidate pairs kept (threshold {thr:.4f}) -> {args.out}"
    if f1:
        msg += f"; F1 {f1.f1:.4f} (P {f1.precision:.4f}, R {f1.recall:.4f}) against {f1.n_gold} gold pairs"
    print(msg)
    return 0


def vars_clean(args: argparse.Namespace) -> dict[str, Any]:
    return {k: v for k, v in vars(args).items() if k != "func" and not callable(v)}


# ============================================================================ eval


def run_eval(args: argparse.Namespace) -> int:
    set_threads(args.threads)
    enc = load_model(args)
    out = Path(args.out)
    if args.what == "recall":
        return eval_recall(args, enc, out)
    from ..models.registry import parse_layers

    layers = parse_layers(args.eval_layers, enc.num_layers)
    if args.what == "tatoeba":
        return eval_tatoeba(args, enc, layers, out)
    if args.what == "bli":
        return eval_bli(args, enc, layers, out)
    return eval_pool(args, enc, out)


def _tatoeba_langs(spec: str) -> list[str]:
    from ..errors import choice_error

    allx = tatoeba_languages()
    if spec == "all":
        return allx
    langs = [x.strip() for x in spec.split(",") if x.strip()]
    for lg in langs:
        if lg not in allx:
            raise choice_error("Tatoeba language", lg, allx)
    return langs


def eval_tatoeba(args: argparse.Namespace, enc: Any, layers: list[int], out: Path) -> int:
    import numpy as np

    from ..analyses import retrieval as R
    from ..data.registry import dataset_provenance
    from ..results import Provenance, record

    langs = _tatoeba_langs(args.langs)
    sets = encode_tatoeba(enc, langs, cache=not args.no_cache)
    per: dict[str, dict[str, dict[str, dict[str, float]]]] = {"none": {}, "center": {}}
    for tr in ("none", "center"):
        for la in layers:
            rows = {}
            for lg in langs:
                x, y = sets[lg][0].sentence(la), sets[lg][1].sentence(la)
                if tr == "center":
                    x, y = R.center(x), R.center(y)
                sc = R.tatoeba_accuracy(x, y)
                rows[lg] = {"n": sc.n, "xx_to_eng": sc.src_to_tgt, "eng_to_xx": sc.tgt_to_src,
                            "xsim_xx_to_eng": sc.xsim_src_to_tgt, "xsim_eng_to_xx": sc.xsim_tgt_to_src}
            per[tr][str(la)] = rows
    summary: dict[str, Any] = {}
    for tr in per:
        avg = {la: {m: float(np.mean([r[m] for r in rows.values()])) for m in
                    ("xx_to_eng", "eng_to_xx", "xsim_xx_to_eng", "xsim_eng_to_xx")}
               for la, rows in per[tr].items()}
        best = max(avg, key=lambda la: avg[la]["xx_to_eng"] + avg[la]["eng_to_xx"])
        summary[tr] = {"average_by_layer": avg, "best_layer": int(best), "best": avg[best],
                       "per_language_at_best": per[tr][best]}
    payload = {"languages": langs, "layers": layers, "pooling": "mean", "similarity": "cosine 1-NN; xSIM = ratio margin k=4",
               "layer_selection": "layer maximising mean(xx->eng, eng->xx) accuracy averaged over languages, "
               "chosen on the same test sets (no held-out split)",
               "centering": "each side minus its own mean (language mean of that file)",
               "summary": summary, "per_layer": per}
    prov = Provenance.collect(config=vars_clean(args), model=enc.provenance, layers=layers, pooling="mean",
                              datasets=[dataset_provenance("tatoeba", languages=langs)])
    path = record("retrieval.tatoeba", payload, prov).save(out / "tatoeba.json")
    for tr in ("none", "center"):
        s = summary[tr]
        print(f"tatoeba ({len(langs)} languages, transform {tr}): best layer {s['best_layer']}: "
              f"xx->eng {s['best']['xx_to_eng']:.4f}, eng->xx {s['best']['eng_to_xx']:.4f}, "
              f"xSIM error {s['best']['xsim_xx_to_eng']:.4f} / {s['best']['xsim_eng_to_xx']:.4f}")
    print(f"results: {path}")
    return 0


def eval_bli(args: argparse.Namespace, enc: Any, layers: list[int], out: Path) -> int:
    from ..analyses import retrieval as R
    from ..data.formats import load_muse, muse_categories, translations
    from ..data.registry import dataset_provenance
    from ..results import Provenance, record

    pair = args.pair
    full = load_muse(pair)  # every category: the target vocabulary and the 'all' row
    cats = muse_categories(pair)
    gold_all = translations(full)
    src_words = sorted(gold_all)
    tgt_words = sorted({e.tgt for e in full})
    sv = isolated_word_vectors(enc, src_words, layers, cache=not args.no_cache)
    tv = isolated_word_vectors(enc, tgt_words, layers, cache=not args.no_cache)
    rec = translations(load_muse(pair, "recommended"))
    by_cat = {c: translations(load_muse(pair, [c])) for c in cats}
    res: dict[str, Any] = {}
    for la in layers:
        row: dict[str, Any] = {}
        for method in ("cosine", "csls"):
            def score(gold: dict[str, set[str]], excl: bool) -> dict[str, Any]:
                s = R.bli_precision(sv[la], tv[la], src_words, tgt_words, gold, method=method, exclude_identical=excl)
                return {"n": s.n_sources, **s.precision, "n_identical_excluded": s.n_identical_excluded}

            row[method] = {
                "all_categories": score(gold_all, False),
                "all_categories_without_identical": score(gold_all, True),
                "n+v+a+o": score(rec, False),
                "n+v+a+o_without_identical": score(rec, True),
                "by_category": {c: score(g, False) for c, g in by_cat.items()},
                "by_category_without_identical": {c: score(g, True) for c, g in by_cat.items()},
            }
        res[str(la)] = row
    payload = {"pair": pair, "layers": layers, "target_vocabulary": f"all {len(tgt_words)} target words of the pair's dictionary",
               "word_vectors": "each word encoded alone as a 1-word pre-tokenized input; vector = mean of its "
               "subword vectors without special tokens (the extractor's word pooling; lone '▁' pieces dropped)",
               "category_scoring": "a category's sources and gold translations come from its by-pos file; "
               "retrieval is over the full target vocabulary; 'n+v+a+o' is the annotators' recommended set",
               "methods": {"cosine": "nearest neighbour by cosine", "csls": "CSLS, k=10"},
               "results": res}
    prov = Provenance.collect(config=vars_clean(args), model=enc.provenance, layers=layers, pooling="word mean",
                              datasets=[dataset_provenance("muse")])
    path = record("retrieval.bli", payload, prov).save(out / f"bli_{pair}.json")
    for la in layers:
        c = res[str(la)]["cosine"]
        cats_s = ", ".join(f"{k} {v['p@1']:.1f}" for k, v in c["by_category"].items())
        print(f"{pair} layer {la}: P@1 all {c['all_categories']['p@1']:.1f} (w/o identical "
              f"{c['all_categories_without_identical']['p@1']:.1f}); n+v+a+o {c['n+v+a+o']['p@1']:.1f} "
              f"(w/o identical {c['n+v+a+o_without_identical']['p@1']:.1f}); {cats_s}")
    print(f"results: {path}")
    return 0


def eval_pool(args: argparse.Namespace, enc: Any, out: Path) -> int:
    """Mining F1 on one pool of all Tatoeba languages shuffled together.

    Sources: every xx line of every language, shuffled. Targets: the English sides, shuffled,
    with identical English sentences merged (the same English line appears for several
    languages; a source is correct if it is mined with the text of its own English line).
    """
    import numpy as np

    from ..analyses import retrieval as R
    from ..data.formats import read_lines
    from ..data.registry import dataset_provenance
    from ..results import Provenance, record

    langs = _tatoeba_langs(args.langs)
    from ..models.registry import parse_layers

    layers = parse_layers(args.eval_layers, enc.num_layers) if args.eval_layers != "all" else [enc.num_layers]
    sets = encode_tatoeba(enc, langs, cache=not args.no_cache)
    rng = np.random.default_rng(0)
    eng_text: list[str] = []
    src_lang: list[str] = []
    for lg in langs:
        eng_text += read_lines(tatoeba_files(lg)[1])
        src_lang += [lg] * len(sets[lg][0])
    uniq, inv = np.unique(np.array(eng_text, dtype=object), return_inverse=True)
    n = len(eng_text)
    sperm = rng.permutation(n)
    res: dict[str, Any] = {}
    for la in layers:
        for tr in ("none", "center"):
            xs, ys = [], []
            for lg in langs:
                x, y = sets[lg][0].sentence(la), sets[lg][1].sentence(la)
                if tr == "center":
                    x, y = R.center(x), R.center(y)
                xs.append(x)
                ys.append(y)
            x_all, y_all = np.concatenate(xs), np.concatenate(ys)
            # one vector per distinct English sentence (mean over its copies: they differ only if
            # the same text was centred with different language means)
            y_u = np.zeros((len(uniq), y_all.shape[1]), np.float32)
            np.add.at(y_u, inv, R.normalize(y_all))
            tperm = rng.permutation(len(uniq))
            x_p, y_p = x_all[sperm], y_u[tperm]
            pos_of_t = np.empty(len(uniq), np.int64)
            pos_of_t[tperm] = np.arange(len(uniq))
            gold = {(int(i), int(pos_of_t[inv[sperm[i]]])) for i in range(n)}
            mined = R.mine_modes(R.normalize(x_p), R.normalize(y_p), 4, R.Margin.RATIO,
                                 (R.MineMode.FORWARD, R.MineMode.MAX, R.MineMode.INTERSECT))
            for md, pairs in mined.items():
                mode = md.value
                f1 = R.score_pairs(pairs, gold)
                res[f"layer{la}/{tr}/{mode}"] = f1.__dict__
                print(f"pool layer {la} {tr} {mode}: F1 {f1.f1:.4f} (P {f1.precision:.4f} R {f1.recall:.4f}, "
                      f"threshold {f1.threshold:.4f}, {n} sources, {len(uniq)} distinct English targets)")
    payload = {"languages": langs, "n_sources": n, "n_targets_distinct": int(len(uniq)),
               "margin": "ratio, k=4", "protocol": "mine the shuffled pool, F1 against gold at the F1-optimal threshold",
               "gold": "source i -> the distinct English sentence of its own line", "results": res}
    prov = Provenance.collect(config=vars_clean(args), model=enc.provenance, layers=layers, pooling="mean",
                              datasets=[dataset_provenance("tatoeba", languages=langs)])
    path = record("retrieval.mining_pool", payload, prov).save(out / "mining_pool.json")
    print(f"results: {path}")
    return 0


def eval_recall(args: argparse.Namespace, enc: Any, out: Path) -> int:
    import numpy as np

    from ..analyses.retrieval import recall_at_k
    from ..errors import ConfigError
    from ..results import Provenance, record

    if not args.index:
        raise ConfigError("eval recall needs --index DIR")
    args.mmap = False
    idx = open_index_for(args, enc)
    rng = np.random.default_rng(0)
    rows = rng.choice(idx.meta.ntotal, min(args.queries, idx.meta.ntotal), replace=False)
    q = idx.reconstruct_range(0, idx.meta.ntotal)[rows]
    k = args.k
    exact = idx.exact_search(q, k + 1)[:, 1:]  # drop the query's own row
    _, got = idx.search_raw(q, k + 1, prepared=True)
    got = got[:, 1:]
    r = {f"recall@{kk}": recall_at_k(got, exact, kk) for kk in sorted({1, min(5, k), k})}
    payload = {"index": str(args.index), "key": idx.meta.key, "search_params": idx.meta.search_params,
               "n_queries": len(rows), "queries": "stored vectors of the index (own row excluded)", **r}
    path = record("retrieval.recall", payload, Provenance.collect(config=vars_clean(args), model=enc.provenance)).save(
        out / "recall.json")
    print(", ".join(f"{a} {b:.4f}" for a, b in r.items()) + f" ({idx.meta.key}, {idx.meta.search_params}) -> {path}")
    return 0


# ============================================================================ demo


def demo_section(ctx: Any) -> str:
    """Demo: one index over the embedded corpus's translations (every demo language, last
    layer, cosine), then neighbour queries: each English message's nearest translations.

    Writes ``<ctx.out>/retrieval/neighbours.json``; returns a one-paragraph summary.
    """
    import numpy as np

    from ..index.faiss_index import Item, VectorIndex
    from ..results import record

    out = ctx.out / "retrieval"
    layer = ctx.encoder.num_layers
    par = {lg: pairs for lg, pairs in ctx.parallel.items() if len(pairs) >= 5}
    if not par:
        return "retrieval: skipped, the embedded corpus has no language with 5 or more pairs"
    rows, vecs, english = [], [], {}
    for lg, pairs in par.items():
        corp = ctx.extract([p[1] for p in pairs])  # all layers: shared with the other demo sections
        vecs.append(corp.sentence(layer))
        rows += [Item(lg, f"{lg}:{i}", p[1]) for i, p in enumerate(pairs)]
        for i, p in enumerate(pairs):
            english.setdefault(p[0], []).append((lg, i))
    idx = VectorIndex.build(np.concatenate(vecs), rows, key="auto", model=_model_dict(ctx.encoder), layer=layer,
                            pooling="mean")
    queries = sorted(english, key=lambda e: (-len(english[e]), e))
    qv = ctx.extract(queries).sentence(layer)
    hits = idx.search(qv, k=1, langs="en", to=None)
    # accuracy: the English message's nearest translation in each language is its own
    correct = total = 0
    per_lang: dict[str, list[int]] = {lg: [0, 0] for lg in par}
    for lg in par:
        hl = idx.search(qv, k=1, langs="en", to=[lg])
        for q, h in zip(queries, hl):
            want = {f"{lg}:{i}" for l2, i in english[q] if l2 == lg}
            if want:
                ok = int(h[0].sid in want)
                per_lang[lg][0] += ok
                per_lang[lg][1] += 1
                correct += ok
                total += 1
    show = queries[:3]
    to = sorted(par)[:3]
    examples = {q: {lg: [(h.text, round(h.score, 4)) for h in idx.search(qv[[queries.index(q)]], k=3, langs="en", to=[lg])[0]]
                    for lg in to} for q in show}
    payload = {"layer": layer, "index_key": idx.meta.key, "n_vectors": idx.meta.ntotal, "languages": sorted(par),
               "en_to_xx_p@1": correct / max(total, 1),
               "per_language_p@1": {lg: a / max(b, 1) for lg, (a, b) in per_lang.items()},
               "examples": examples, "top_hit_any_language": {q: (h[0].lang, h[0].text, h[0].score) for q, h in zip(show, hits)}}
    record("demo.retrieval", payload, ctx.provenance({"layer": layer, "index": idx.meta.key}, [layer], "mean")).save(
        out / "neighbours.json")
    q0 = show[0]
    ex = "; ".join(f"{lg}: {examples[q0][lg][0][0]!r} ({examples[q0][lg][0][1]:.3f})" for lg in to)
    return (f"retrieval: a {idx.meta.key} index of {idx.meta.ntotal} translations in {len(par)} languages "
            f"(layer {layer}, cosine); English -> translation P@1 {correct / max(total, 1):.3f} over {total} queries; "
            f"neighbours of {q0!r}: {ex}; details: {out / 'neighbours.json'}")
