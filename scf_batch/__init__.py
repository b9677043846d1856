"""scf-batch: bulk, resumable changes to Close Shared Custom Field associations."""

__version__ = "0.1.0"
