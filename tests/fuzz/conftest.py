"""Bounded fuzzing of the file entry points (issue 17) with hypothesis.

Two profiles: ``ci`` (the default: a few seconds per target, part of every test run) and
``long`` (``DMS_FUZZ=long``: thousands of inputs per target, a documented manual run):

    DMS_FUZZ=long .venv/bin/python -m pytest tests/fuzz --hypothesis-show-statistics

Inputs are real, valid small files mutated byte-wise (bit flips, truncation, inserted and
deleted runs, overwritten lengths); every input must end in the project's typed error or a
normal result, never another exception, a crash or a hang (the deadline).
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=20_000,  # ms per input: a hang, not a slow machine
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                      HealthCheck.function_scoped_fixture],
               derandomize=False, print_blob=True)
settings.register_profile("ci", max_examples=40, **_COMMON)  # type: ignore[arg-type]
settings.register_profile("long", max_examples=3000, **_COMMON)  # type: ignore[arg-type]
settings.load_profile("long" if os.environ.get("DMS_FUZZ") == "long" else "ci")
