"""Entry points and wiring: Lambda handlers and the ``tunebot`` CLI."""
