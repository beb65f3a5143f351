"""Everything that talks to AWS. May import ``recommendations`` models, never ``bot``."""
