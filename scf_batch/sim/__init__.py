"""The Close simulator. Imports nothing from the client side of scf_batch."""

from scf_batch.sim.app import create_app, running
from scf_batch.sim.config import SimConfig

__all__ = ["SimConfig", "create_app", "running"]
