"""`undo`: the job that brings back what one pass of a run folder changed."""

from __future__ import annotations

import os
from pathlib import Path

import click

from scf_batch.cli.common import INPUT_OPTION, PASS_OPTION, guarded
from scf_batch.cli.credentialflags import credential_flags
from scf_batch.options import click_options_for, environment_base_url


@click.command("undo")
@click.argument("run", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="the JSONL job to write [required]",
)
@PASS_OPTION
@INPUT_OPTION
@credential_flags
@click_options_for("base_url")
def undo_command(
    *,
    run: Path,
    output: Path,
    number: int | None,
    given: Path | None,
    api_key_env: str | None,
    token_env: str | None,
    base_url: str | None,
) -> int:
    """Write the job that undoes a pass of RUN (the last by default), each line labelled
    reversible, lossy or irreversible; pairs changed since the pass are left alone."""

    def body() -> int:
        from scf_batch.run.undo import undo_pass  # noqa: PLC0415 (imported when it runs)

        return undo_pass(
            run=run,
            number=number,
            given=given,
            output=output,
            api_key_env=api_key_env,
            token_env=token_env,
            base_url=base_url or environment_base_url(os.environ),
        )

    return guarded(body)
