#!/usr/bin/env bash
# Full-size retrieval figures for issue 6 (offline model). Each step queues on the shared
# heavy-job lock separately; results go to results/retrieval/ and results/bench/ann/.
#   MBERT_LAB_DATA=/path/to/shared/data bash benchmarks/retrieval_figures.sh
set -euo pipefail
LOCK=${MBERT_LOCK:-/tmp/mbert-heavy.lock}
run() { echo "== $(date -u +%H:%M:%S) $*"; flock "$LOCK" "$@"; }
run python -m mbert_lab index eval tatoeba --langs all --layers all --out results/retrieval
run python -m mbert_lab index eval bli --pair de-en --layers all --out results/retrieval
run python -m mbert_lab index eval bli --pair en-de --layers all --out results/retrieval
run python -m mbert_lab index eval pool --langs all --layers 12 --out results/retrieval
run python benchmarks/ann_bench.py all --threads 2
echo "== $(date -u +%H:%M:%S) done"
