"""Losses of the zoo's training stages: sequence log-probabilities, DPO and the MPO-style mix.

A plain implementation (``dpo_loss`` is unit-tested against a hand-computed value);
TRL's trainer was not used, to keep the tiny custom checkpoint's loop transparent and
deterministic.
"""

from __future__ import annotations

from .batching import model_inputs


def sequence_logps(model, enc):
    """Sum of log-probabilities of the labelled tokens of each sequence (teacher forcing)."""
    import torch

    inputs = {k: v for k, v in model_inputs(model, enc).items() if k != "labels"}
    logits = model(**inputs).logits[:, :-1].float()
    labels = enc["labels"][:, 1:]
    mask = labels != -100
    lp = torch.log_softmax(logits, -1).gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return (lp * mask).sum(-1), mask.sum(-1)


def dpo_loss(pol_chosen, pol_rejected, ref_chosen, ref_rejected, beta: float):
    """DPO (Rafailov et al. 2023): -log sigmoid(beta * ((pi_w - ref_w) - (pi_l - ref_l))), batch mean."""
    import torch.nn.functional as F

    margin = (pol_chosen - ref_chosen) - (pol_rejected - ref_rejected)
    return -F.logsigmoid(beta * margin).mean()


def mpo_loss(pol_chosen, pol_rejected, ref_chosen, ref_rejected, chosen_tokens, beta: float, sft_weight: float):
    """MPO-style objective: DPO plus the per-token NLL of the chosen answer (the SFT term)."""
    sft = -(pol_chosen / chosen_tokens.clamp(min=1)).mean()
    return dpo_loss(pol_chosen, pol_rejected, ref_chosen, ref_rejected, beta) + sft_weight * sft

