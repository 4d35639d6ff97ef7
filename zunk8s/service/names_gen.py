"""Zun's default container names: ``<greek letter>-<1..24>-container`` (zun/common/name_generator.py)."""

from __future__ import annotations

import random

GREEK = (
    "alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda",
    "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau", "upsilon", "phi", "chi", "psi", "omega",
)


def generate_name(rng: random.Random | None = None) -> str:
    r = rng or random.SystemRandom()
    return f"{r.choice(GREEK)}-{r.randint(1, 24)}-container"
