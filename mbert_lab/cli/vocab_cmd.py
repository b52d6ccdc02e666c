"""``mbert-lab vocab``: tokenizer statistics, shared-vocabulary overlap, correlation with transfer.

Wires data -> tokenizer -> :mod:`mbert_lab.analyses.vocabulary` -> results, tables and plots.
One results folder per tokenizer (``<out>/<tokenizer-slug>/``) holding ``vocab.json`` (a
result record with provenance), ``table.md`` / ``table.csv`` and the plots; with several
``--tokenizer`` options ``<out>/comparison.md`` puts them side by side.

Corpora (all from the data mirror unless ``--corpus`` is given):

* PUD (``ud-pud/<lang>_pud-ud-test.conllu``): 1000 parallel sentences, gold UD segmentation
  (surface tokens: a multi-word token such as French "du" counts as one word);
* gold word-alignment sets (``word-alignment``): the non-English side of enfr, roen, jaen with
  the tokens the gold links count, which gives Japanese (KFTT) a gold segmentation;
* Tatoeba (``tatoeba/v1``): non-English sides, split on ASCII spaces only; for scripts written
  without spaces (Chinese, Japanese, Thai...) the "words" are whole sentences, so their word
  measures are marked as not comparable (``segmentation`` says so);
* UD-POS in XTREME's layout: English training data as the *source*; the target test data
  (``--suite``) are the PUD test sets (default, the transfer runs' primary POS suite) or the
  XTREME ``dev-<lang>`` sets, both with gold UD segmentation: Wu & Dredze's seen-subword
  shares and the correlation with POS transfer scores;
* NER: CoNLL-2003 English train as source, MasakhaNER test sets as targets (Pires et al.'s
  entity-subword overlap).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError, ModelLoadError

PUD_DEFAULT = ("en", "de", "fr", "es", "ru", "zh", "ar")
UNSPACED_SCRIPTS = {"Han", "Hiragana", "Katakana", "Thai", "Lao", "Khmer", "Myanmar", "Tibetan"}
DEFAULT_MEASURES = ("seen_token", "seen_type", "jaccard", "weighted_jaccard", "fertility", "continued_share")

EPILOG = """examples:
  mbert-lab vocab                                   # offline tokenizer: PUD (7 langs), Tatoeba heatmap
  mbert-lab vocab --tokenizer offline --tokenizer wordpiece-mirror   # two tokenizers side by side
  mbert-lab vocab --tokenizer bert-base-multilingual-cased           # online: mBERT's own WordPiece
  mbert-lab vocab --scores results/transfer/pos.json --score-field accuracy
  mbert-lab vocab --scores my_scores.csv --measure seen_token --measure fertility   # CSV: lang,score
  mbert-lab vocab --corpus de=de.txt --corpus zh=zh.conllu --tatoeba none --pud none

tokenizers: 'offline' (the offline model's XLM-R SentencePiece), 'wordpiece-mirror[:SIZE]'
(cased WordPiece trained here on a balanced Tatoeba sample, default 30000), or any Hugging Face
id / local folder with a fast tokenizer. --corpus LANG=FILE: '.conllu' files use their gold
segmentation, other files one sentence per line split on ASCII spaces.
Measures for --measure: per language fertility, fertility_with_marker, continued_share, unk_rate,
chars_per_subword, distinct_subwords, vocab_share_own_script; against the source language's
training data: jaccard, weighted_jaccard, seen_type, seen_token (Wu & Dredze).
"""


# --------------------------------------------------------------------------------------------
# readers: the shared loaders of mbert_lab.data.formats


UD_SEGMENTATION = "gold (UD words, multi-word tokens expanded)"  # as the transfer runs read them


def read_conllu_words(path: Path) -> list[list[str]]:
    """Gold UD words per sentence (syntactic words: French "du" is "de" + "le")."""
    from ..data.formats import read_conllu

    return [list(s.words) for s in read_conllu(path, check_upos=False)]


def read_lines_words(path: Path) -> list[list[str]]:
    """One sentence per line, words split on the ASCII space only (U+3000 stays in a word)."""
    from ..data.formats import read_lines, split_ascii_space

    return [list(split_ascii_space(ln)) for ln in read_lines(path)]


# --------------------------------------------------------------------------------------------
# tokenizers


def load_tokenizer(spec: str) -> tuple[Any, dict[str, Any]]:
    """A fast tokenizer and its provenance for ``offline``, ``wordpiece-mirror[:N]`` or an id/path."""
    if spec in ("offline", "multilingual-e5-small-4bit", "e5-small-q4"):
        try:
            from ..models.offline import ensure_offline_model
        except ImportError as e:
            raise ModelLoadError(
                "cannot load tokenizer 'offline': the offline model builder "
                f"(mbert_lab/models/offline.py) is not available in this checkout ({e})"
            ) from e
        from ..models.offline import read_manifest

        folder = ensure_offline_model()
        tok, info = _auto_tokenizer(str(folder), spec)
        info["label"] = "offline model (multilingual-e5-small, XLM-R SentencePiece)"
        man = read_manifest(folder) or {}
        info["manifest"] = {k: v for k, v in man.items() if isinstance(v, (str, int, float))}
        return tok, info
    if spec.startswith("wordpiece-mirror"):
        size = 30_000
        if ":" in spec:
            try:
                size = int(spec.split(":", 1)[1])
            except ValueError:
                raise ConfigError(f"bad tokenizer '{spec}': use wordpiece-mirror or wordpiece-mirror:30000") from None
        from ..models.wordpiece import mirror_wordpiece

        tok, info = mirror_wordpiece(vocab_size=size)
        info.update(spec=spec, label=f"WordPiece {size // 1000}k trained on the mirror (Tatoeba)")
        return tok, info
    return _auto_tokenizer(spec, spec)


def _auto_tokenizer(path: str, spec: str) -> tuple[Any, dict[str, Any]]:
    import os

    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(path, use_fast=True, trust_remote_code=False)
    except (OSError, ValueError, EnvironmentError, TypeError) as e:
        hint = "" if os.path.exists(path) else " (not a local folder; a Hub id needs internet)"
        raise ModelLoadError(f"cannot load tokenizer '{spec}'{hint}: {e}") from e
    if not getattr(tok, "is_fast", False):
        raise ModelLoadError(f"tokenizer '{spec}' is not a fast tokenizer; word ids need one")
    return tok, {"spec": spec, "path": path, "label": spec}


def tokenizer_fingerprint(tok: Any) -> str:
    import hashlib

    return hashlib.sha256(tok.backend_tokenizer.to_str().encode("utf-8")).hexdigest()


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "tokenizer"


# --------------------------------------------------------------------------------------------
# corpora


class Corpus:
    """Sentences of words for one language, with where they came from."""

    def __init__(self, lang: str, sentences: list[list[str]], segmentation: str, source: str,
                 dataset: str | None = None):
        self.lang, self.sentences, self.segmentation, self.source, self.dataset = (
            lang, sentences, segmentation, source, dataset)


def pud_corpora(langs: Sequence[str]) -> list[Corpus]:
    from ..data.formats import load_pud

    out = []
    for lang in langs:
        sents = list(load_pud(lang).values())
        out.append(Corpus(lang, [list(x.words) for x in sents], UD_SEGMENTATION, sents[0].path if sents else "",
                          dataset="ud-pud"))
    return out


def tatoeba_corpora(langs: Sequence[str], max_sentences: int | None) -> list[Corpus]:
    from ..data.formats import load_tatoeba, split_ascii_space

    out = []
    for lang in langs:
        pc = load_tatoeba(lang, empty="skip")
        sents = [list(split_ascii_space(t)) for t in pc.src_sentences][: max_sentences or None]
        path = pc.pairs[0].src_path if pc.pairs and hasattr(pc.pairs[0], "src_path") else ""
        out.append(Corpus(lang, sents, "whitespace (ASCII space)", path or _tatoeba_file(lang), dataset="tatoeba"))
    return out


def alignment_corpora(sets: Sequence[str]) -> list[Corpus]:
    """The non-English side of gold word-alignment sets (tokens as the gold links count them).

    These give Japanese (KFTT) a gold word segmentation, which Tatoeba lacks.
    """
    from ..data.formats import load_gold_alignment

    out = []
    for name in sets:
        g = load_gold_alignment(name)
        side = "src" if g.src_lang != "eng" else "tgt"
        lang = g.src_lang if side == "src" else g.tgt_lang
        sents = [list(p.src_tokens if side == "src" else p.tgt_tokens) for p in g.pairs]
        out.append(Corpus(lang, sents, f"gold (word-alignment set {g.name}, {side} tokens)", g.text_path,
                          dataset="word-alignment"))
    return out


def _tatoeba_file(lang: str) -> str:
    from ..paths import data_root

    return str(data_root() / "tatoeba" / "v1" / f"tatoeba.{lang}-eng.{lang}")


def user_corpora(specs: Sequence[str]) -> list[Corpus]:
    out = []
    for s in specs:
        if "=" not in s:
            raise ConfigError(f"bad --corpus '{s}': use LANG=FILE, e.g. de=corpus.de.txt")
        lang, file = s.split("=", 1)
        p = Path(file)
        if not p.exists():
            raise InputError("file not found", path=p)
        if p.suffix == ".conllu":
            out.append(Corpus(lang, read_conllu_words(p), "gold (CoNLL-U words)", str(p)))
        else:
            out.append(Corpus(lang, read_lines_words(p), "whitespace (ASCII space)", str(p)))
    return out


# --------------------------------------------------------------------------------------------
# scores


def read_scores(path: Path, field: str | None = None, suite: str | None = None) -> dict[str, float]:
    """Per-language scores from ``lang,score`` CSV or a JSON results file.

    JSON from ``mbert-lab transfer``: ``payload["suites"][suite]["per_language"][lang]["mean"]``
    (or ``payload["per_language"]``, the primary suite, when ``suite`` is None). Other JSON: the first mapping (searched depth-first, ``payload`` first) whose keys are language
    codes and whose values are numbers, or dicts holding ``field`` (default: the only numeric
    value, or 'accuracy' / 'f1' / 'score').
    """
    if not path.exists():
        raise InputError("scores file not found", path=path)
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"not valid JSON: {e.msg}", path=path, line=e.lineno) from None
        body = obj.get("payload", obj) if isinstance(obj, dict) else obj
        if suite and isinstance(body, dict) and isinstance(body.get("suites"), dict):
            if suite not in body["suites"]:
                raise InputError(f"no suite '{suite}' in the scores file (has: {sorted(body['suites'])})",
                                 path=path)
            body = body["suites"][suite]
        if isinstance(body, dict) and isinstance(body.get("per_language"), dict):
            body = {"per_language": body["per_language"]}  # the transfer runs' layout
        found = _find_scores(body, field)
        if not found:
            raise InputError(
                "no per-language scores found (expected a mapping lang -> number, or lang -> {"
                f"{field or 'accuracy'}: number}}); use --score-field to name the metric",
                path=path,
            )
        return found
    out: dict[str, float] = {}
    for n, row in enumerate(csv.reader(io.StringIO(text)), 1):
        if not row or not "".join(row).strip() or row[0].startswith("#"):
            continue
        if len(row) < 2:
            raise InputError("expected 'lang,score'", path=path, line=n)
        try:
            out[row[0].strip()] = float(row[1])
        except ValueError:
            if n == 1:  # header
                continue
            raise InputError(f"score '{row[1]}' is not a number", path=path, line=n) from None
    if not out:
        raise InputError("no 'lang,score' rows", path=path)
    return out


_LANG_RE = re.compile(r"^[a-z]{2,3}([-_][A-Za-z]{2,4})?$")


def _find_scores(obj: Any, field: str | None) -> dict[str, float]:
    if isinstance(obj, dict):
        keys = list(obj)
        if len(keys) >= 2 and all(isinstance(k, str) and _LANG_RE.match(k) for k in keys):
            vals = {k: _score_value(v, field) for k, v in obj.items()}
            if all(v is not None for v in vals.values()):
                return {k: float(v) for k, v in vals.items()}  # type: ignore[arg-type]
        for v in obj.values():
            r = _find_scores(v, field)
            if r:
                return r
    elif isinstance(obj, list):
        for v in obj:
            r = _find_scores(v, field)
            if r:
                return r
    return {}


def _score_value(v: Any, field: str | None) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, dict):
        if field is not None:
            x = v.get(field)
            return _score_value(x, None) if not isinstance(x, dict) else None
        for k in ("accuracy", "f1", "score", "mean"):
            if isinstance(v.get(k), (int, float)) and not isinstance(v.get(k), bool):
                return float(v[k])
        nums = [x for x in v.values() if isinstance(x, (int, float)) and not isinstance(x, bool)]
        if len(nums) == 1:
            return float(nums[0])
    return None


def lang_key(code: str) -> str:
    """ISO 639-3 for matching scores with measures ('de' and 'deu' meet); unknown codes as-is."""
    from ..languages import is_known, to_iso639_3

    return to_iso639_3(code) if is_known(code) else code


# --------------------------------------------------------------------------------------------
# analysis per tokenizer


def analyse_corpora(tok: Any, corpora: Sequence[Corpus], vocab_shares: dict[str, float]) -> dict[str, Any]:
    """Stats per language plus pairwise Jaccard / weighted-Jaccard matrices."""
    from ..analyses import vocabulary as V

    stats, counts = [], {}
    for c in corpora:
        tc = V.tokenize_words(tok, c.sentences, lang=c.lang, segmentation=c.segmentation)
        st = V.language_stats(tc, vocab_size=len(tok), vocab_script_share=vocab_shares)
        d = asdict(st)
        d["word_measures_comparable"] = not (
            st.script in UNSPACED_SCRIPTS and c.segmentation.startswith("whitespace"))
        d["source"] = c.source
        stats.append(d)
        counts[c.lang] = V.subword_counts(tc)
    out: dict[str, Any] = {"languages": [c.lang for c in corpora], "stats": stats}
    for m in (V.PairMeasure.JACCARD, V.PairMeasure.WEIGHTED_JACCARD):
        langs, mat = V.pairwise_matrix(counts, m)
        out[m.value] = mat.round(6).tolist()
    return out


SUITES = ("pud", "xtreme-dev")


def transfer_measures(
    tok: Any, source: str, vocab_shares: dict[str, float], suite: str = "pud"
) -> dict[str, Any]:
    """Measures of each POS evaluation language against the English UD-POS training data.

    ``suite`` picks the target test data, as the transfer runs name it: ``pud`` (UD PUD test
    sets, the transfer runs' primary POS suite) or ``xtreme-dev`` (XTREME UD-POS dev sets).
    """
    from ..analyses import vocabulary as V
    from ..data.formats import load_pud, load_udpos, pud_languages, udpos_languages

    if suite not in SUITES:
        from ..errors import choice_error

        raise choice_error("POS evaluation suite", suite, SUITES)
    train = load_udpos("train", source)
    src = V.subword_counts(V.tokenize_words(tok, [list(x.tokens) for x in train], lang=source,
                                            segmentation="gold (UD 2.5)"))
    per: dict[str, dict[str, Any]] = {}
    files: list[str] = [train[0].path]
    for lang in (pud_languages() if suite == "pud" else udpos_languages("dev")):
        if suite == "pud":
            sents: Any = list(load_pud(lang).values())
            words, seg = [list(x.words) for x in sents], UD_SEGMENTATION
        else:
            sents = load_udpos("dev", lang)
            words, seg = [list(x.tokens) for x in sents], "gold (UD 2.5)"
        files.append(sents[0].path)
        tc = V.tokenize_words(tok, words, lang=lang, segmentation=seg)
        st = V.language_stats(tc, vocab_size=len(tok), vocab_script_share=vocab_shares)
        tgt = V.subword_counts(tc)
        seen = V.seen_share(src, tgt)
        per[lang] = {
            **{k: v for k, v in asdict(st).items() if k != "lang"},
            "jaccard": V.jaccard(src, tgt),
            "weighted_jaccard": V.weighted_jaccard(src, tgt),
            "seen_type": seen.by_type,
            "seen_token": seen.by_token,
            "target_file": sents[0].path,
        }
    return {"source": source, "source_file": train[0].path, "suite": suite, "per_language": per, "files": files}


def ner_measures(tok: Any) -> dict[str, Any]:
    """Pires et al.'s entity-subword overlap: CoNLL-2003 English train vs MasakhaNER test.

    Entity words are those tagged B-/I- (any type; MasakhaNER's DATE included).
    """
    from ..analyses import vocabulary as V
    from ..data.formats import load_ner, masakhaner_languages

    def entity_counts(sents: Any, lang: str) -> Counter[str]:
        words = [list(x.tokens) for x in sents]
        tc = V.tokenize_words(tok, words, lang=lang, segmentation="gold (CoNLL tokens)")
        mask = [t != "O" for x in sents if len(x.tokens) for t in x.tags]
        return V.subword_counts(tc, mask)

    src_sents = load_ner("conll2003-en", "train")
    src_ent = entity_counts(src_sents, "en")
    per = {}
    files = [src_sents[0].path]
    for lang in masakhaner_languages():
        sents = load_ner("masakhaner-v1", "test", lang)
        ent = entity_counts(sents, lang)
        files.append(sents[0].path)
        per[lang] = {"entity_overlap": V.entity_overlap(src_ent, ent), "entity_subword_types": len(ent),
                     "target_file": sents[0].path}
    return {"source": "en", "source_file": src_sents[0].path, "source_entity_subword_types": len(src_ent),
            "per_language": per, "files": files}


# --------------------------------------------------------------------------------------------
# plots and tables


def plot_heatmap(langs: Sequence[str], mat: Any, title: str, stem: Path,
                 groups: Sequence[str] | None = None) -> list[Path]:
    """Pairwise matrix; the diagonal (always 1) is blanked so the colour scale shows the pairs.

    ``groups`` (e.g. each language's script) orders the languages so same-script blocks show.
    """
    import numpy as np

    from ..plots import new_figure, save_figure

    m = np.array(mat, dtype=float)
    order = list(range(len(langs)))
    if groups is not None:
        order = sorted(order, key=lambda i: (groups[i], langs[i]))
    m = m[np.ix_(order, order)]
    labels = [langs[i] + (f" ({groups[i][:4]})" if groups is not None and len(langs) > 12 else "") for i in order]
    n = len(langs)
    np.fill_diagonal(m, np.nan)
    off = m[np.isfinite(m)]
    vmax = float(off.max()) if off.size else 1.0
    size = max(5.0, min(0.2 * n + 2, 26))
    fig, ax = new_figure(size + 1, size)
    im = ax.imshow(np.ma.masked_invalid(m), cmap="viridis", vmin=0, vmax=vmax or 1.0)
    fs = 8 if n <= 20 else 5
    ax.set_xticks(range(n), labels, rotation=90, fontsize=fs)
    ax.set_yticks(range(n), labels, fontsize=fs)
    if n <= 12:
        for i in range(n):
            for j in range(n):
                if i != j:
                    ax.text(j, i, f"{m[i][j]:.2f}", ha="center", va="center", fontsize=7, color="w")
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    ax.set_title(title + " (diagonal blank)")
    return save_figure(fig, stem)


def plot_bars(series: dict[str, dict[str, float]], langs: Sequence[str], ylabel: str, stem: Path) -> list[Path]:
    import numpy as np

    from ..plots import new_figure, save_figure

    fig, ax = new_figure(max(5, 0.35 * len(langs) * len(series) + 2), 3.8)
    width = 0.8 / max(1, len(series))
    x = np.arange(len(langs))
    for k, (name, vals) in enumerate(series.items()):
        ax.bar(x + k * width - 0.4 + width / 2, [vals.get(lg, np.nan) for lg in langs], width, label=name)
    ax.set_xticks(x, langs, rotation=90 if len(langs) > 15 else 0)
    ax.set_ylabel(ylabel)
    if len(series) > 1:
        ax.legend(fontsize=7)
    return save_figure(fig, stem)


def plot_scatter(corr: Any, stem: Path) -> list[Path]:
    from ..plots import new_figure, save_figure

    fig, ax = new_figure(5, 4)
    ax.scatter(corr.x, corr.y)
    for lg, a, b in zip(corr.languages, corr.x, corr.y):
        ax.annotate(lg, (a, b), textcoords="offset points", xytext=(4, 3), fontsize=9)
    ax.set_xlabel(corr.measure)
    ax.set_ylabel(corr.score)
    ax.set_title(f"Pearson {corr.pearson:.2f} [{corr.pearson_ci[0]:.2f}, {corr.pearson_ci[1]:.2f}]  "
                 f"Spearman {corr.spearman:.2f}", fontsize=9)
    return save_figure(fig, stem)


TABLE_COLS = ("lang", "segmentation", "n_words", "fertility", "fertility_with_marker", "continued_share",
              "lone_marker_share", "unk_rate", "chars_per_subword", "distinct_subwords", "script",
              "vocab_share_own_script")


def stats_table(stats: Sequence[dict[str, Any]], fmt: str, label: str = "") -> str:
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.4f}"
        return "" if v is None else str(v)

    if fmt == "csv":
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(("tokenizer",) + TABLE_COLS)
        for s in stats:
            w.writerow([label] + [cell(s.get(c)) for c in TABLE_COLS])
        return buf.getvalue()
    lines = ["| " + " | ".join(TABLE_COLS) + " |", "|" + "---|" * len(TABLE_COLS)]
    for s in stats:
        lines.append("| " + " | ".join(cell(s.get(c)) for c in TABLE_COLS) + " |")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------------------------
# CLI


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "vocab",
        help="tokenizer statistics, shared-vocabulary overlap and its correlation with transfer",
        description=__doc__.split("\n\n")[0],
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--tokenizer", action="append", default=None,
                   help="tokenizer to measure (repeat for side by side; default: offline)")
    p.add_argument("--pud", default=None,
                   help="PUD languages, comma-separated, or 'none' (default: en,de,fr,es,ru,zh,ar)")
    p.add_argument("--tatoeba", default=None,
                   help="Tatoeba languages (ISO 639-3), comma-separated, 'all' or 'none' (default: all)")
    p.add_argument("--tatoeba-max", type=int, default=None, help="sentences per Tatoeba language")
    p.add_argument("--alignment", default=None,
                   help="gold word-alignment sets whose non-English side is measured (gold segmentation, "
                        "e.g. Japanese): comma-separated of enfr,roen,jaen, 'all' or 'none' (default: all)")
    p.add_argument("--corpus", action="append", default=[], metavar="LANG=FILE",
                   help="a language-tagged corpus (.conllu: gold words; else one sentence per line)")
    p.add_argument("--no-transfer-data", action="store_true",
                   help="skip the UD-POS (Wu & Dredze) and NER (Pires et al.) measures")
    p.add_argument("--source", default="en", help="source (training) language of the transfer (default: en)")
    p.add_argument("--scores", type=Path, default=None,
                   help="per-language transfer scores: JSON results file or CSV 'lang,score'")
    p.add_argument("--score-field", default=None, help="metric name inside the JSON (default: mean/accuracy/f1)")
    p.add_argument("--suite", default="pud", choices=SUITES,
                   help="POS target test data for the transfer measures and the suite read from a "
                        "transfer results file (default: pud)")
    p.add_argument("--measure", action="append", default=None,
                   help=f"measure(s) to correlate (default: {', '.join(DEFAULT_MEASURES)})")
    p.add_argument("--n-boot", type=int, default=2000, help="bootstrap resamples (default 2000)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.add_argument("--format", choices=("md", "csv"), default="md", help="table format (default md)")
    p.add_argument("--out", default="results/vocab", help="output folder (default: results/vocab)")
    p.set_defaults(func=run)


def _lang_list(value: str | None, default: Sequence[str], all_langs: Any = None) -> list[str]:
    if value is None:
        return list(default)
    v = value.strip().lower()
    if v == "none":
        return []
    if v == "all":
        return list(all_langs() if callable(all_langs) else default)
    return [x.strip() for x in value.split(",") if x.strip()]


def run(args: argparse.Namespace) -> int:
    from ..analyses import vocabulary as V
    from ..paths import data_root
    from ..results import Provenance, record

    root = data_root()
    specs = args.tokenizer or ["offline"]
    if args.measure:
        allowed = set(DEFAULT_MEASURES) | {"fertility_with_marker", "unk_rate", "chars_per_subword",
                                           "distinct_subwords", "vocab_share_own_script",
                                           "continued_share_with_marker", "entity_overlap"}
        for m in args.measure:
            if m not in allowed:
                from ..errors import choice_error

                raise choice_error("measure", m, allowed)
    measures = args.measure or list(DEFAULT_MEASURES)
    user = user_corpora(args.corpus)
    defaults_on = not user
    pud_langs = _lang_list(args.pud, PUD_DEFAULT if defaults_on else ())
    from ..data.formats import tatoeba_languages

    tat_langs = _lang_list(args.tatoeba, (), tatoeba_languages) if args.tatoeba else (
        tatoeba_languages() if defaults_on else [])
    from ..data.formats import alignment_sets

    align_sets = _lang_list(args.alignment, alignment_sets() if defaults_on else (), alignment_sets)
    scores = read_scores(args.scores, args.score_field, args.suite) if args.scores else None
    if scores is not None and args.no_transfer_data:
        raise ConfigError("--scores needs the transfer data measures; drop --no-transfer-data")

    # read data once (before loading tokenizers, so bad input fails fast)
    groups: dict[str, list[Corpus]] = {}
    if user:
        groups["corpus"] = user
    if pud_langs:
        groups["pud"] = pud_corpora(pud_langs)
    if align_sets:
        groups["alignment"] = alignment_corpora(align_sets)
    if tat_langs:
        groups["tatoeba"] = tatoeba_corpora(tat_langs, args.tatoeba_max)
    for g, cs in groups.items():
        for c in cs:
            if not any(c.sentences):
                raise InputError(f"empty corpus for language '{c.lang}'", path=c.source)
    out = Path(args.out)
    summaries = []
    loaded = [(spec, *load_tokenizer(spec)) for spec in specs]  # all load before anything is written
    for spec, tok, tinfo in loaded:
        vocab = tok.convert_ids_to_tokens(list(range(len(tok))))
        shares = V.script_shares(vocab, special=tok.all_special_tokens)
        tdir = out / slug(spec)
        payload: dict[str, Any] = {
            "tokenizer": {**tinfo, "vocab_size": len(tok), "fingerprint": tokenizer_fingerprint(tok),
                          "vocab_script_shares": shares},
            "conventions": {
                "fertility": "subwords per word on pre-split words; lone '\u2581' pieces excluded "
                             "(fertility_with_marker counts them)",
                "continued_share": "words with >= 2 pieces, lone markers excluded",
                "unk_rate": "UNK pieces / subwords",
                "chars_per_subword": "characters of the words / subwords",
                "weighted_jaccard": "Ruzicka similarity of relative subword frequencies",
                "seen_type/seen_token": "Wu & Dredze: share of target test subwords (types / tokens) "
                                        "present in the source training data",
                "entity_overlap": "Pires et al.: |E_src & E_tgt| / |E_src | E_tgt| over entity subwords",
                "scripts": "Unicode Script property via the regex module (\\p{Script=...})",
                "segmentation": "UD corpora: syntactic words (French 'du' = 'de' + 'le'), as the transfer "
                                "runs read them; Tatoeba: ASCII spaces (word measures flagged not "
                                "comparable for unspaced scripts); alignment sets: their gold tokens",
                "overlap_types": "piece strings as emitted; lone '\u2581' and the UNK piece excluded",
            },
        }
        for g, cs in groups.items():
            payload[g] = analyse_corpora(tok, cs, shares)
        if not args.no_transfer_data:
            payload["transfer_pos"] = transfer_measures(tok, args.source, shares, args.suite)
            payload["ner"] = ner_measures(tok)
        correlations = []
        if scores is not None:
            per = payload["transfer_pos"]["per_language"]
            src_key = lang_key(args.source)
            by_key = {lang_key(k): v for k, v in scores.items()}
            for m in measures:
                src = payload["ner"]["per_language"] if m == "entity_overlap" else per
                # languages keep the measure's own codes; 'de' in the scores meets 'deu' here
                mv = {k: float(v[m]) for k, v in src.items()
                      if v.get(m) is not None and lang_key(k) != src_key}
                sc = {k: by_key[lang_key(k)] for k in mv if lang_key(k) in by_key}
                c = V.correlate(mv, sc, measure_name=m, score_name=f"transfer score ({args.scores.name})",
                                n_boot=args.n_boot, seed=args.seed)
                correlations.append(c)
        plots: list[str] = []
        for g in groups:
            d = payload[g]
            for m in ("jaccard", "weighted_jaccard"):
                plots += [str(p) for p in plot_heatmap(d["languages"], d[m],
                                                       f"{g}: {m} of subword types ({spec})",
                                                       tdir / f"{g}_overlap_{m}",
                                                       groups=[x["script"] for x in d["stats"]])]
            fert = {s["lang"]: s["fertility"] for s in d["stats"]}
            fert_m = {s["lang"]: s["fertility_with_marker"] for s in d["stats"]}
            plots += [str(p) for p in plot_bars({"fertility (lone marker excluded)": fert, "with lone U+2581 marker": fert_m},
                                                d["languages"], "subwords per word", tdir / f"{g}_fertility")]
        for c in correlations:
            plots += [str(p) for p in plot_scatter(c, tdir / f"scatter_{c.measure}")]
        correlations = [asdict(c) for c in correlations]
        payload["correlations"] = correlations
        payload["scores_file"] = str(args.scores) if args.scores else None
        if args.scores:
            from ..io import sha256_file

            payload["scores_sha256"] = sha256_file(args.scores)
            payload["scores"] = scores
        payload["plots"] = plots
        datasets = _datasets(groups, payload)
        prov = Provenance.collect(config={k: (str(v) if isinstance(v, Path) else v)
                                          for k, v in vars(args).items() if k != "func"},
                                  datasets=datasets)
        rec = record("vocab", payload, prov)
        rec.save(tdir / "vocab.json")
        from ..io import atomic_write_text

        tables = []
        for g in groups:
            tables.append(f"## {g} ({spec})\n\n" + stats_table(payload[g]["stats"], "md"))
        if "transfer_pos" in payload:
            tp = payload["transfer_pos"]["per_language"]
            rows = ["| lang | fertility | continued_share | unk_rate | jaccard | weighted_jaccard | seen_type"
                    " | seen_token |", "|---|---|---|---|---|---|---|---|"]
            for lg, v in tp.items():
                rows.append(f"| {lg} | {v['fertility']:.3f} | {v['continued_share']:.3f} | {v['unk_rate']:.4f} | "
                            f"{v['jaccard']:.3f} | {v['weighted_jaccard']:.3f} | {v['seen_type']:.3f} | "
                            f"{v['seen_token']:.3f} |")
            tables.append(f"## POS targets ({args.suite}) vs {args.source} UD-POS train ({spec})\n\n"
                          + "\n".join(rows) + "\n")
        for c in correlations:
            tables.append(
                f"- {c['measure']} vs {c['score']}: n={c['n']}, Pearson {c['pearson']:.3f} "
                f"[{c['pearson_ci'][0]:.3f}, {c['pearson_ci'][1]:.3f}], Spearman {c['spearman']:.3f} "
                f"[{c['spearman_ci'][0]:.3f}, {c['spearman_ci'][1]:.3f}] ({c['ci_level']:.0%} bootstrap CI)")
        atomic_write_text(tdir / "table.md", "\n".join(tables) + "\n")
        csv_text = "".join(stats_table(payload[g]["stats"], "csv", spec) for g in groups)
        atomic_write_text(tdir / "table.csv", csv_text)
        summaries.append((spec, payload))
        print(f"[{spec}] wrote {tdir / 'vocab.json'}, {tdir / 'table.md'}, {tdir / 'table.csv'}, {len(plots)} plot files")
        first = next(iter(groups), None)
        if first:
            print(stats_table(payload[first]["stats"], args.format, spec))
        for c in correlations:
            print(f"  {c['measure']}: Pearson {c['pearson']:.3f} {tuple(round(x, 3) for x in c['pearson_ci'])}"
                  f"  Spearman {c['spearman']:.3f} {tuple(round(x, 3) for x in c['spearman_ci'])}  n={c['n']}")
    if len(summaries) > 1:
        from ..io import atomic_write_text

        atomic_write_text(out / "comparison.md", comparison_table(summaries))
        print(f"wrote {out / 'comparison.md'}")
    return 0


def comparison_table(summaries: Sequence[tuple[str, dict[str, Any]]]) -> str:
    cols = ("fertility", "continued_share", "unk_rate", "chars_per_subword", "distinct_subwords")
    lines = []
    for g in ("corpus", "pud", "alignment", "tatoeba"):
        have = [(s, p) for s, p in summaries if g in p]
        if not have:
            continue
        lines.append(f"## {g}\n")
        head = ["lang"] + [f"{c} [{s}]" for c in cols for s, _ in have]
        lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for i, lang in enumerate(have[0][1][g]["languages"]):
            row = [lang]
            for c in cols:
                for _, p in have:
                    v = p[g]["stats"][i][c]
                    row.append(f"{v:.4f}" if isinstance(v, float) else str(v))
            lines.append("| " + " | ".join(row) + " |")
        lines.append("")
    return "\n".join(lines)


def _datasets(groups: dict[str, list[Corpus]], payload: dict[str, Any]) -> list[Any]:
    """Dataset provenance (files with sha256) of every corpus the run read."""
    from ..data.registry import dataset_provenance
    from ..io import sha256_file
    from ..results import DatasetProvenance

    out = []
    for g, cs in groups.items():
        if g == "corpus":
            out.append(DatasetProvenance(name="user corpora", files={c.source: sha256_file(c.source) for c in cs},
                                         languages=tuple(c.lang for c in cs)))
        else:
            out.append(dataset_provenance(cs[0].dataset, [c.source for c in cs], languages=[c.lang for c in cs]))
    if "transfer_pos" in payload:
        tp = payload["transfer_pos"]
        out.append(dataset_provenance("xtreme-udpos", [tp["source_file"]], split="train", languages=[tp["source"]]))
        tgt = [f for f in tp["files"][1:]]
        out.append(dataset_provenance("ud-pud" if tp["suite"] == "pud" else "xtreme-udpos", tgt,
                                      split="test" if tp["suite"] == "pud" else "dev",
                                      languages=list(tp["per_language"])))
    if "ner" in payload:
        ner = payload["ner"]
        out.append(dataset_provenance("conll2003-en", [ner["source_file"]], split="train", languages=["en"]))
        out.append(dataset_provenance("masakhaner-v1", ner["files"][1:], split="test",
                                      languages=list(ner["per_language"])))
    return out


# --------------------------------------------------------------------------------------------
# demo


def demo_section(ctx: Any) -> str:
    """Fertility per language and a pairwise subword-overlap heatmap on the embedded corpus.

    Uses ``ctx.encoder.tokenizer`` on the translations of ``ctx.parallel`` (words split on
    ASCII spaces: for unspaced scripts, fertility is per space-separated chunk and flagged),
    plus the English side once. Writes ``ctx.out/vocab/``.
    """
    from ..analyses import vocabulary as V
    from ..results import Provenance, record

    tok = ctx.encoder.tokenizer
    out = Path(ctx.out) / "vocab"
    vocab = tok.convert_ids_to_tokens(list(range(len(tok))))
    shares = V.script_shares(vocab, special=tok.all_special_tokens)
    corpora = []
    eng: list[list[str]] = []
    for lang, pairs in sorted(ctx.parallel.items()):
        sents = [[w for w in t.split(" ") if w] for _, t in pairs]
        if not any(sents):
            continue
        corpora.append(Corpus(lang, sents, "whitespace (ASCII space)", "demo corpus"))
        if not eng:
            eng = [[w for w in e.split(" ") if w] for e, _ in pairs]
    if eng and "en" not in ctx.parallel:
        corpora.insert(0, Corpus("en", eng, "whitespace (ASCII space)", "demo corpus (English side)"))
    if not corpora:
        raise InputError("the demo corpus has no translations")
    res = analyse_corpora(tok, corpora, shares)
    langs = res["languages"]
    plot_heatmap(langs, res["jaccard"], "subword-type Jaccard overlap", out / "overlap_jaccard")
    fert = {s["lang"]: s["fertility"] for s in res["stats"]}
    plot_bars({"fertility": fert}, langs, "subwords per word", out / "fertility")
    config = {"section": "vocab", "segmentation": "whitespace (ASCII space)"}
    if hasattr(ctx, "provenance"):
        prov = ctx.provenance(config=config)
    else:
        prov = Provenance.collect(config=config, model=getattr(ctx.encoder, "provenance", None))
    rec = record("vocab-demo", {"vocab_script_shares": shares, **res}, prov)
    rec.save(out / "vocab.json")
    comp = [s for s in res["stats"] if s["word_measures_comparable"]]
    lo = min(comp, key=lambda s: s["fertility"]) if comp else None
    hi = max(comp, key=lambda s: s["fertility"]) if comp else None
    import numpy as np

    m = np.asarray(res["jaccard"])
    off = m[~np.eye(len(m), dtype=bool)] if len(m) > 1 else np.array([np.nan])
    txt = (f"Vocabulary: {len(langs)} languages tokenized with the model's tokenizer "
           f"({len(tok)} pieces). ")
    if lo and hi:
        txt += (f"Fertility (subwords per space-separated word, lone '\u2581' excluded) ranges from "
                f"{lo['fertility']:.2f} ({lo['lang']}) to {hi['fertility']:.2f} ({hi['lang']}); ")
    txt += (f"the mean pairwise Jaccard overlap of subword types is {float(np.nanmean(off)):.3f}. "
            f"Results and plots in {out}.")
    return txt
