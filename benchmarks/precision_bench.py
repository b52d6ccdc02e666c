"""Quality of bf16 / int8 compute against fp32, through the studies (what users run).

- Word alignment: AER at layer 8 (ArgMax, IterMax, Match; subword level) on the dev halves of the
  mirror's gold sets (en-fr, ro-en, ja-en; the seeded dev/test split of ``align_eval``), and on the
  test halves.
- Tatoeba: xx->eng and eng->xx accuracy at layer 8 (no centering, cosine) over ``--langs``.

Every dtype runs the same studies on the same data in one process; the vector cache is off so
nothing computed in one precision is reused by another. Speed is extract_bench's job.

Run: ``python benchmarks/precision_bench.py [--dtypes fp32,bf16,int8] [--langs ...] [--threads 2]``
Writes ``results/bench/precision_bench.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("MBERT_LAB_DATA", str(ROOT.parent / "shared" / "data"))
sys.path.insert(0, str(ROOT))
LANGS = "deu,fra,spa,ita,rus,cmn,jpn,kor,ara,heb,hin,tur,fin,vie,tha,swh"


def main() -> int:
    import mbert_lab as ml
    from mbert_lab.analyses.alignment import AlignmentScores

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dtypes", default="fp32,bf16,int8")
    ap.add_argument("--langs", default=LANGS, help="Tatoeba languages")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--model", default="offline")
    ap.add_argument("--out", default=str(ROOT / "results" / "bench" / "precision_bench.json"))
    args = ap.parse_args()
    enc = ml.load_encoder(args.model)
    rows = []
    for dt in args.dtypes.split(","):
        t0 = time.perf_counter()
        common = {"model": args.model, "dtype": dt, "threads": args.threads, "cache": False}
        al = ml.align_eval(gold=["en-fr", "ro-en", "ja-en"], layers=8, **common, encoder=enc)
        ta = ml.tatoeba(langs=args.langs.split(","), layers=8, transforms=["none"], **common, encoder=enc)
        row = {"dtype": dt, "seconds": time.perf_counter() - t0, "aer": {}, "tatoeba": {}}
        for r in al.by_layer_all_pairs:
            if r.layer == 8:
                row["aer"][f"{r.gold}/{r.method}/all"] = r.aer
        for split in ("dev", "test"):  # AER from the summed link counts of the split's pairs
            sums: dict[str, list[int]] = {}
            for p in al.per_pair:
                if p.layer == 8 and p.split == split:
                    c = sums.setdefault(f"{p.gold}/{p.method}/{split}", [0, 0, 0, 0])
                    for i, v in enumerate((p.n_pred, p.n_sure, p.n_pred_sure, p.n_pred_possible)):
                        c[i] += v
            for key, counts in sums.items():
                row["aer"][key] = AlignmentScores.from_counts(*counts).aer
        for lang, sc in ta.transforms["none"].per_language[8].items():
            row["tatoeba"][lang] = {"xx_to_eng": sc.xx_to_eng, "eng_to_xx": sc.eng_to_xx}
        rows.append(row)
        print(json.dumps(row), flush=True)
    ref = rows[0]
    summary = []
    for row in rows:
        d_aer = {k: round(100 * (v - ref["aer"][k]), 3) for k, v in row["aer"].items()}
        acc = [(v["xx_to_eng"] + v["eng_to_xx"]) / 2 for v in row["tatoeba"].values()]
        acc0 = [(v["xx_to_eng"] + v["eng_to_xx"]) / 2 for v in ref["tatoeba"].values()]
        summary.append({
            "dtype": row["dtype"], "seconds": round(row["seconds"], 1),
            "max_abs_aer_delta_points": max(abs(v) for v in d_aer.values()),
            "aer_delta_points": d_aer,
            "tatoeba_mean_acc": 100 * sum(acc) / len(acc),
            "tatoeba_mean_delta_points": 100 * (sum(acc) - sum(acc0)) / len(acc),
            "tatoeba_max_abs_lang_delta_points": 100 * max(abs(a - b) for a, b in zip(acc, acc0)),
        })
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "summary": summary, "langs": args.langs}, indent=2))
    for s in summary:
        print({k: v for k, v in s.items() if k != "aer_delta_points"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
