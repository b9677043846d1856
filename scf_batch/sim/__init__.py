"""The Close simulator. Imports nothing from the client side of scf_batch."""
