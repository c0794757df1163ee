"""Offline evaluation: fleets with known truth, strategies, metrics."""
