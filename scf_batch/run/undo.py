"""What `scf-batch undo RUN -o FILE` does (its command is cli/undo.py): the job that brings back
what one pass changed, written as JSONL.

The I/O around plan/undo.py: the pass's snapshot and results by runfolder's readers, the pass's
operations file (each row as prepared against the snapshot says what it set), the org read now
(a pair someone changed since the pass is left alone and reported), the lines written by the
one JSONL job writer (export.py).
"""

from __future__ import annotations

import os
from pathlib import Path

import anyio
import click

from scf_batch import logs
from scf_batch.close.credentials import read_credentials
from scf_batch.errors import UsageError
from scf_batch.exitcodes import ExitCode
from scf_batch.models import Status
from scf_batch.plan.prepare import prepare
from scf_batch.plan.snapshot import Snapshot
from scf_batch.plan.undo import WRITES, UndoCounts, left_alone, undo_steps
from scf_batch.run.export import read_org, write_jsonl
from scf_batch.runfolder.passfiles import find_pass, input_job
from scf_batch.runfolder.records import ResultLine


def undo_pass(
    *,
    run: Path,
    number: int | None,
    given: Path | None,
    output: Path,
    api_key_env: str | None,
    token_env: str | None,
    base_url: str,
) -> int:
    """Write the undo job of pass `number` of `run` (its last by default); the exit code."""
    files = find_pass(run, number)
    before = Snapshot.from_document(files.snapshot_document())
    source = input_job(files, given)
    if any(output.resolve() == own.resolve() for own in source.files):
        raise UsageError(f"-o {output}: found the pass's own input; expected another file")
    # only the rows that wrote are kept: the pass's changes, sized by the org, not the job
    results = {line.row: line for line in files.results() if _wrote(line)}
    prepared = prepare(
        source.items(),
        before,
        where=source.where,
        defines_where=source.defines_where,
        plan=False,
    )
    steps = undo_steps(before, prepared, results)
    credentials = read_credentials(
        os.environ, api_key_env=api_key_env, token_env=token_env, base_url=base_url
    )
    logs.configure(log_format="auto", secrets=[credentials.secret])
    now = anyio.run(lambda: read_org(base_url, credentials), backend="asyncio")
    _same_org(before, now, files.folder)
    kept, changed = left_alone(steps, now)
    for message in changed:
        click.echo(f"scf-batch undo: left alone: {message}", err=True)
    try:
        write_jsonl(output, [step.record for step in kept])
    except OSError as exc:
        click.echo(f"scf-batch undo: {output}: cannot write ({exc.strerror})", err=True)
        return ExitCode.USAGE
    click.echo(
        f"scf-batch undo: wrote {len(kept)} step(s) undoing pass {files.number} to {output} "
        f"({UndoCounts.of(kept)}); {len(changed)} left alone (changed since the pass)"
    )
    return ExitCode.OK


def _wrote(line: ResultLine) -> bool:
    return line.status is Status.OK and line.outcome in WRITES


def _same_org(before: Snapshot, now: Snapshot, folder: Path) -> None:
    """Refuse a key of another org than the pass ran against: its ids mean nothing there."""
    if before.org is not None and now.org is not None and before.org.id != now.org.id:
        raise UsageError(
            f"{folder}: the pass ran against {before.org}, the key is of {now.org}; expected "
            "the key of the org the pass changed"
        )
