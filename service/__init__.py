"""tunebot's use cases, between the Slack/CLI surfaces (``bot``, ``handlers``) and AWS (``aws``).

``service`` imports only ``recommendations`` and the ports it declares itself
(:mod:`service.ports`); ``aws`` implements those ports and ``handlers.compose`` wires them in.
"""
