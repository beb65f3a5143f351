"""What the service layer needs from the outside world, as Protocols; ``aws`` implements them.

Adapters raise :class:`service.errors.PortError` (or a subclass) for anything that failed, with
``retryable`` set when trying again later may succeed. A use case imports these Protocols, never
an implementation: ``handlers.compose`` passes the real ones in, tests pass fakes.
"""

from __future__ import annotations

# ---- reading functions and the fleet -------------------------------------------------------

# ---- the state store -----------------------------------------------------------------------

# ---- changes: applying, observing, claiming ------------------------------------------------

# ---- benchmarks ----------------------------------------------------------------------------
