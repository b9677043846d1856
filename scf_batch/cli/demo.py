"""`demo`: the simulator started in-process and the demo job run against it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from scf_batch.cli.common import guarded, report_summary
from scf_batch.options import click_options_for

if TYPE_CHECKING:
    from scf_batch.report.summary import RunReport


@click.command("demo")
@click.option(
    "--job",
    type=click.Path(path_type=Path),
    help="the job spec to run against the simulator [default: jobs/demo.toml]",
)
@click_options_for("log_format", "progress")
def demo_command(job: Path | None, progress: bool | None, log_format: str | None) -> int:
    """Start the simulator in-process and run the demo job against it."""

    def body() -> int:
        import anyio  # noqa: PLC0415 (imported when the command runs)

        from scf_batch import logs  # noqa: PLC0415
        from scf_batch.job.opsfile import check_operations  # noqa: PLC0415
        from scf_batch.report.summary import render_summary  # noqa: PLC0415
        from scf_batch.run.demo import (  # noqa: PLC0415
            DEMO_API_KEY,
            demo_org,
            describe_simulator,
            find_demo_spec,
        )
        from scf_batch.run.job import run_job  # noqa: PLC0415
        from scf_batch.run.progress import make_reporter  # noqa: PLC0415

        async def run_demo() -> RunReport:
            """Start the simulator, run the demo job against it from scratch, stop it."""
            async with demo_org(spec_path) as (settings, credentials):
                operations = check_operations(
                    settings.operations,
                    encoding=settings.encoding,
                    allow_empty=settings.allow_empty,
                    definitions=settings.definitions,
                )
                return await run_job(
                    settings,
                    credentials,
                    operations=operations,
                    reporter=lambda: make_reporter(progress),
                )

        spec_path = find_demo_spec(job)
        logs.configure(log_format=log_format or "auto", secrets=[DEMO_API_KEY])
        click.echo(f"scf-batch demo: {spec_path} against the simulator on a free loopback port")
        click.echo(f"  simulator: {describe_simulator(spec_path)}")
        report = anyio.run(run_demo, backend="asyncio")
        click.echo(render_summary(report))
        click.echo(f"  folder    {report.folder.resolve()}")
        report_summary(report)
        return report.exit_code

    return guarded(body)
