"""Zero-shot cross-lingual transfer: fine-tune on English, evaluate other languages.

- :mod:`.tasks`: the tasks (POS, NER, XNLI, PAWS-X) and example types;
- :mod:`.data`: readers, the parallel train/eval split (XNLI/PAWS-X), label policies;
- :mod:`.model`: encoder + head, featurisation, freezing modes;
- :mod:`.runner`: the training loop (seeded, resumable, safetensors checkpoints) and evaluation;
- :mod:`.report`: mean/sd per language, zero-shot average, transfer gap, tables and charts;
- :mod:`.probe`: per-layer linear probes on cached vectors.

The CLI is ``mbert-lab transfer`` (:mod:`mbert_lab.cli.transfer_cmd`).
"""
