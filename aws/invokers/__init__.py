"""Invokers run the tuning search's probes: on the simulator, or on real Lambda functions."""
