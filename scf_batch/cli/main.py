"""The command group, its lazily loaded commands, and how a command's end becomes an exit code.

Each command family lives in its own module of `scf_batch.cli`, named in COMMANDS with its
one-line help, and is imported only when it runs: `--help`, `--version` and shell completion
import none of them. A new command (or command group) is one more line in COMMANDS.
"""

from __future__ import annotations

import importlib
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import FrameType

import click
from click.shell_completion import CompletionItem

from scf_batch import __version__
from scf_batch.cli.output import forget_logs, pipe_closed
from scf_batch.exitcodes import ExitCode


@dataclass(frozen=True, slots=True)
class Entry:
    """Where a command lives (`module:attribute`) and its one-line help for the group's list."""

    target: str
    summary: str


COMMANDS = {
    "run": Entry("scf_batch.cli.jobs:run_command", "Run JOB: a job spec or an operations file."),
    "plan": Entry("scf_batch.cli.jobs:plan_command", "Show what `run` would change (read-only)."),
    "validate": Entry(
        "scf_batch.cli.jobs:validate_command", "Check a job without changing anything."
    ),
    "report": Entry("scf_batch.cli.passes:report_command", "Show the summary of a pass in RUN."),
    "retry": Entry("scf_batch.cli.passes:retry_command", "Write the rows of a pass not ok."),
    "undo": Entry("scf_batch.cli.undo:undo_command", "Write the job that undoes a pass of RUN."),
    "export": Entry("scf_batch.cli.export:export_command", "Write an org's associations as a job."),
    "demo": Entry("scf_batch.cli.demo:demo_command", "Run the demo job against the simulator."),
    "sim": Entry("scf_batch.sim.command:sim_command", "Run the Close simulator until Ctrl-C."),
    "show": Entry("scf_batch.cli.show:show_command", "Show an org's fields by target (read-only)."),
    "fleet": Entry("scf_batch.cli.fleet:fleet_command", "Validate, plan, run or report many orgs."),
}
# commands whose interruption leaves a run folder to continue
RESUMABLE = {"run", "demo"}


class LazyGroup(click.Group):
    """A group that imports a command's module only when that command is asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        entry = COMMANDS.get(cmd_name)
        if entry is None:
            return super().get_command(ctx, cmd_name)
        module_name, attribute = entry.target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        return command if isinstance(command, click.Command) else None

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name].summary) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(self, ctx: click.Context, incomplete: str) -> list[CompletionItem]:
        """Command names from the table (no import), then the group's own options."""
        names = [
            CompletionItem(name, help=entry.summary)
            for name, entry in sorted(COMMANDS.items())
            if name.startswith(incomplete)
        ]
        return names + click.Command.shell_complete(self, ctx, incomplete)


@click.group(
    cls=LazyGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    epilog='Shell completion: eval "$(_SCF_BATCH_COMPLETE=bash_source scf-batch)" '
    "(zsh_source, fish_source for zsh and fish); see the README.",
)
@click.version_option(__version__, prog_name="scf-batch")
def cli() -> None:
    """Bulk, resumable changes to Close Shared Custom Field associations."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI and return its exit code instead of exiting (so tests can call it).

    From its first line, SIGTERM is handled as SIGINT is: outside a run (reading the file, the
    org's snapshot) either one ends the command with a one-line message and exit 130; during a
    run, the runner takes both over and stops at a checkpoint. Called as the program (`argv`
    None), both are ignored once the exit code is known, so a late signal cannot change it.
    """
    received: list[int] = []
    forget_logs()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    previous = signal.signal(signal.SIGTERM, _sigterm_as_sigint(received))
    try:
        return _dispatch(argv, received)
    finally:
        if argv is None:  # the process exits next
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
        else:
            signal.signal(signal.SIGTERM, previous)


def _dispatch(argv: Sequence[str] | None, received: list[int]) -> int:
    """The command's exit code, whatever way it ends."""
    args = list(argv) if argv is not None else sys.argv[1:]
    try:
        code = _invoke(args)
        sys.stdout.flush()
    except KeyboardInterrupt:
        return _interrupted(received, args)
    except BrokenPipeError:
        return pipe_closed()
    return code


def _invoke(args: list[str]) -> int:
    """The command's exit code; click's own ends (usage errors, --help, Abort) included."""
    try:
        result = cli.main(args=args, prog_name="scf-batch", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort as exc:
        if isinstance(exc.__cause__, KeyboardInterrupt):
            raise exc.__cause__ from None
        click.echo("Aborted.", err=True)
        return ExitCode.INTERRUPTED
    except click.ClickException as exc:
        exc.show(file=sys.stderr)
        return exc.exit_code
    return result if isinstance(result, int) else 0


def _sigterm_as_sigint(received: list[int]) -> Callable[[int, FrameType | None], None]:
    """A SIGTERM handler that does what SIGINT's handler of the moment does: raise
    KeyboardInterrupt, or (inside anyio.run) cancel the main task, which then raises it."""

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        received.append(signum)
        handler = signal.getsignal(signal.SIGINT)
        if not callable(handler):  # SIGINT ignored or left to the system: stop all the same
            raise KeyboardInterrupt
        handler(signal.SIGINT, frame)

    return on_sigterm


def _interrupted(received: list[int], args: Sequence[str]) -> int:
    """The message and exit code of a command stopped by SIGINT or SIGTERM outside a run."""
    name = "SIGTERM" if received else "SIGINT"
    command = next((arg for arg in args if not arg.startswith("-")), "")
    if command in RESUMABLE:
        tail = "no write was in flight; the run folder keeps its checkpoint: rerun to continue"
    else:
        tail = "nothing was changed"
    click.echo(f"scf-batch: interrupted by {name}; {tail}", err=True)
    return ExitCode.INTERRUPTED
