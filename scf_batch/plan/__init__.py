"""The org's snapshot and the plan of every row against it, with its views (pure)."""
