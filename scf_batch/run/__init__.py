"""A run assembled: the org reader, the runner, the executor of every row, progress."""
