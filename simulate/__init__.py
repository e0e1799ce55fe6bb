"""Deterministic, seeded simulator of EDC exports (one CSV per CRF form).

Public API: :func:`simulate_study`.  Command line::

    python -m simulate --study ms_exo|t2dm_exo --out DIR [--seed N] [--subjects N] [--safety-labs]

The committed demo data in ``studies/<study>/raw`` is the output with the
default seed and default subject count; see ``studies/README.md`` for the
data dictionary and the list of deliberate data-quality quirks.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from . import ms_exo, t2dm_exo
from .common import write_forms

__all__ = ["STUDIES", "DEFAULT_SEEDS", "simulate_study", "generate_study"]

STUDIES = {"ms_exo": ms_exo, "t2dm_exo": t2dm_exo}
#: default seeds, derived from the seed documents 000_353921eb25e9f2a4 / 004_37e5abb266060330
DEFAULT_SEEDS = {"ms_exo": ms_exo.DEFAULT_SEED, "t2dm_exo": t2dm_exo.DEFAULT_SEED}


def generate_study(study: str, seed: int | None = None, subjects: int | None = None,
                   safety_labs: bool = False) -> dict[str, pd.DataFrame]:
    """Simulate a study in memory and return its forms keyed by form name.

    ``seed`` defaults to the study's default seed and ``subjects`` (number of
    randomised subjects) to the demo size (20 for ms_exo, 50 for t2dm_exo).
    ``safety_labs`` (ms_exo only) adds the 30-test haematology/chemistry panel at
    every visit, the lab volume of a phase 3 trial.
    """
    try:
        mod = STUDIES[study]
    except KeyError:
        raise ValueError(f"unknown study {study!r}; expected one of {sorted(STUDIES)}") from None
    seed = mod.DEFAULT_SEED if seed is None else int(seed)
    subjects = mod.DEFAULT_SUBJECTS if subjects is None else int(subjects)
    if subjects < 1:
        raise ValueError("subjects must be >= 1")
    if safety_labs:
        if study != "ms_exo":
            raise ValueError(f"the safety laboratory panel is available for ms_exo only, not {study!r}")
        return mod.generate(seed=seed, subjects=subjects, safety_labs=True)
    return mod.generate(seed=seed, subjects=subjects)


def simulate_study(study: str, out_dir: Path, seed: int | None = None,
                   subjects: int | None = None, safety_labs: bool = False) -> dict[str, pd.DataFrame]:
    """Simulate ``study`` and write one ``<form>.csv`` per form into ``out_dir``.

    Returns the frames written, keyed by form name.  Output is byte-identical
    for identical arguments.
    """
    frames = generate_study(study, seed=seed, subjects=subjects, safety_labs=safety_labs)
    write_forms(frames, Path(out_dir))
    return frames
