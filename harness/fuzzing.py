"""How every property-based test runs: reproducible (examples derived from each test's name, no
example database kept), without a deadline (the machine may be busy), at a modest count."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
