"""Zero-shot cross-lingual transfer: fine-tune on English, evaluate other languages.

- :mod:`.tasks`: the tasks (POS, NER, XNLI, PAWS-X) and example types;
- :mod:`.data`: readers, the parallel train/eval split (XNLI/PAWS-X), label policies;
- :mod:`.model`: encoder + head, featurisation, freezing modes;
- :mod:`.runner`: the training loop (seeded, resumable, safetensors checkpoints) and evaluation;
- :mod:`.report`: mean/sd per language, zero-shot average, transfer gap;
- :mod:`.probe`: per-layer linear probes on cached vectors, dev/test splits.

The study is :mod:`mbert_lab.studies.transfer` (``ml.transfer``); the CLI ``mbert-lab transfer``.
"""
