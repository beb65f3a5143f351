"""Benchmark-driven tuning: find the memory size and architecture that meet an objective.

Pure: the search plans probes and reads observations; ``aws.invokers`` runs them.
"""
