#!/usr/bin/env bash
# Acceptance runs for issue #7 (zero-shot transfer, offline model). Each task takes the shared
# heavy-job lock for itself; a rerun resumes (finished seeds are loaded, checkpoints resumed).
#   MODEL=offline bash scripts/transfer_acceptance.sh            # default model
#   MODEL=/path/to/model bash scripts/transfer_acceptance.sh
set -euo pipefail
MODEL=${MODEL:-offline}
OUT=${OUT:-results/transfer}
THREADS=${THREADS:-1}
export MBERT_LAB_DATA=${MBERT_LAB_DATA:-$(cd "$(dirname "$0")/.." && pwd)/../shared/data}
COMMON=(--model "$MODEL" --seeds 3 --mode frozen-lower --freeze-up-to 0 --lr 1e-4 --batch-size 32
        --max-length 128 --warmup 0.1 --checkpoint-every 50 --threads "$THREADS" --out "$OUT")
run() { flock /tmp/mbert-heavy.lock python -m mbert_lab transfer "$@" "${COMMON[@]}"; }
for task in ${TASKS:-pos xnli ner}; do
  case $task in
    pos)  run --task pos --train en --eval en,de,fr,es,ru,zh,ar --suites pud --max-train 5000 --epochs 1 ;;
    xnli) run --task xnli --train en --eval en,de,fr,es,ru,zh,ar --epochs 3 --max-eval 500 ;;
    ner)  run --task ner --train en --eval en,amh,hau,ibo,kin,lug,luo,pcm,swa,wol,yor --max-train 4000 \
              --max-eval 500 --epochs 1 ;;
  esac
done
