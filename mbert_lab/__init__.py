"""mbert-lab: cross-lingual analysis of multilingual encoders.

Importing the package is cheap: torch, transformers and faiss are imported lazily by the
modules that need them.
"""

__version__ = "0.1.0"
