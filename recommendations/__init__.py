"""tunebot's brain: snapshots in, recommendations out. Pure: standard library and pydantic only."""
