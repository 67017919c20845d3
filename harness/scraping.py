"""A store's /metrics read back as numbers: every sample by its name and labels."""

from __future__ import annotations

import httpx
from prometheus_client.parser import text_string_to_metric_families

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(base_url: str) -> Samples:
    answer = httpx.get(f"{base_url}/metrics", timeout=10)
    answer.raise_for_status()
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample's value; 0 when the store has none (a counter that never moved has no labelled sample)."""
    return samples.get((name, frozenset(labels.items())), 0.0)
