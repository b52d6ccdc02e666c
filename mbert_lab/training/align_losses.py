"""Alignment fine-tuning objectives that need no MLM head (after Dou & Neubig 2021,
awesome-align; written from the paper's definitions, not copied).

Shapes: ``src`` (B, m, d) and ``tgt`` (B, n, d) hidden states of one layer; ``src_mask`` (B, m)
and ``tgt_mask`` (B, n) are True on content subwords (no special tokens, no padding).

- :func:`alignment_probs`: ``sim = src @ tgt^T``; ``s2t`` = softmax over target positions
  (each source row sums to 1), ``t2s`` = softmax over source positions (each target column
  sums to 1); both zero outside the content cells.
- :func:`self_training_guide`: the model's own bidirectional softmax alignment,
  ``(s2t > threshold) & (t2s > threshold)`` (no gradient).
- SO (:func:`so_loss`): ``-mean_b( sum(s2t * G) / m_b + sum(t2s * G) / n_b )`` pushes up the
  probability of the self-aligned cells in both directions (-2 when both directions put all
  their mass on the guide's cells and every word has one link).
- CO (:func:`co_loss`): ``-mean_b( sum_ij s2t[i,j] * t2s[i,j] / min(m_b, n_b) )``: the two
  directions agree (-1 for a one-to-one hard alignment).
- PSI (:func:`psi_loss`): in-batch parallel-sentence identification on mean-pooled,
  L2-normalised sentence vectors: symmetric cross-entropy of ``cos / temperature`` with the
  true translation as the class (other pairs of the batch are the negatives).
"""

from __future__ import annotations

from typing import Any

OBJECTIVES = ("so", "co", "psi")


def alignment_probs(src: Any, tgt: Any, src_mask: Any, tgt_mask: Any) -> tuple[Any, Any]:
    import torch

    sim = torch.bmm(src, tgt.transpose(1, 2))
    neg = torch.finfo(sim.dtype).min
    valid = src_mask[:, :, None] & tgt_mask[:, None, :]
    s2t = torch.softmax(sim.masked_fill(~tgt_mask[:, None, :], neg), dim=-1) * valid
    t2s = torch.softmax(sim.masked_fill(~src_mask[:, :, None], neg), dim=1) * valid
    return s2t, t2s


def self_training_guide(s2t: Any, t2s: Any, threshold: float) -> Any:
    return ((s2t > threshold) & (t2s > threshold)).to(s2t.dtype).detach()


def so_loss(s2t: Any, t2s: Any, guide: Any, src_mask: Any, tgt_mask: Any) -> Any:
    m = src_mask.sum(1).clamp(min=1).to(s2t.dtype)
    n = tgt_mask.sum(1).clamp(min=1).to(s2t.dtype)
    per = (s2t * guide).sum((1, 2)) / m + (t2s * guide).sum((1, 2)) / n
    return -per.mean()


def co_loss(s2t: Any, t2s: Any, src_mask: Any, tgt_mask: Any) -> Any:
    import torch

    k = torch.minimum(src_mask.sum(1), tgt_mask.sum(1)).clamp(min=1).to(s2t.dtype)
    return -((s2t * t2s).sum((1, 2)) / k).mean()


def pooled(h: Any, mask: Any) -> Any:
    import torch

    w = mask.to(h.dtype)[:, :, None]
    v = (h * w).sum(1) / w.sum(1).clamp(min=1.0)
    return torch.nn.functional.normalize(v, dim=-1)


def psi_loss(src_vec: Any, tgt_vec: Any, temperature: float) -> Any:
    import torch

    logits = src_vec @ tgt_vec.T / temperature
    gold = torch.arange(logits.shape[0], device=logits.device)
    ce = torch.nn.functional.cross_entropy
    return (ce(logits, gold) + ce(logits.T, gold)) / 2


def objective_losses(src: Any, tgt: Any, src_mask: Any, tgt_mask: Any, objectives: tuple[str, ...],
                     threshold: float, temperature: float, guide: Any = None) -> dict[str, Any]:
    """Each asked objective's loss on one batch (``guide``: precomputed SO targets, e.g. from a
    dropout-free pass; by default the detached probabilities of this pass)."""
    out: dict[str, Any] = {}
    if "so" in objectives or "co" in objectives:
        s2t, t2s = alignment_probs(src, tgt, src_mask, tgt_mask)
        if "so" in objectives:
            g = guide if guide is not None else self_training_guide(s2t, t2s, threshold)
            out["so"] = so_loss(s2t, t2s, g, src_mask, tgt_mask)
        if "co" in objectives:
            out["co"] = co_loss(s2t, t2s, src_mask, tgt_mask)
    if "psi" in objectives:
        out["psi"] = psi_loss(pooled(src, src_mask), pooled(tgt, tgt_mask), temperature)
    return out
