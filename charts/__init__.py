"""Pictures and per-configuration figures of a benchmark result, for Slack and the CLI.

``figures`` is pure (standard library and ``recommendations`` only) so the Slack card can use
it without loading an imaging library; ``tuning_chart`` draws the PNG with Pillow and is
imported only where a chart is rendered (the benchmark's slow path, never the Slack ack).
"""
