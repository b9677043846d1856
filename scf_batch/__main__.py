"""`python -m scf_batch` runs the same CLI as the `scf-batch` script."""

from scf_batch.cli import main

raise SystemExit(main())
