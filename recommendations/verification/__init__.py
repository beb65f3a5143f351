"""Verification of an applied change: did it deliver what it promised?

Pure statistics over before/after traffic (``observations``), the windows to compare
(``windows``), the verdict (``verdict``) and simulated traffic for development (``traffic``).
docs/verification.md explains the method and its limits.
"""
