"""Every deploy example against the real CLI: the Dockerfile, the Kubernetes CronJob, the systemd
units and the cron line each run a command that exists, whose flags parse through the options
table, and whose run folder (--out) lies on the storage that outlives the run."""

from __future__ import annotations

import configparser
import json
import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path, PurePosixPath
from typing import Any

import click
import pytest
import yaml

from scf_batch.cli.main import cli
from scf_batch.exitcodes import STOPS
from scf_batch.job.spec import load_job
from scf_batch.options import RunSettings, build_settings
from tests.cliruns import new_pairs
from tests.e2e import TARGET_KEY, write_csv
from tests.simproc import sim_process

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
SCRIPT = "scf-batch"


def parsed(argv: list[str]) -> click.Context:
    """The context `scf-batch ARGV` would run in: the command looked up and its arguments
    parsed by click (a missing command or a bad flag raises), nothing run."""
    name, *rest = argv
    group = click.Context(cli, info_name=SCRIPT)
    command = cli.get_command(group, name)
    assert command is not None, f"no command {name!r}"
    return command.make_context(name, rest, parent=group)


def run_settings(argv: list[str]) -> RunSettings:
    """A `run` command line's settings, its flags checked by the options table as a run would."""
    context = parsed(argv)
    assert "run" == context.info_name
    flags = {k: v for k, v in context.params.items() if k != "job"}
    return build_settings(
        name="nightly", operations=Path("nightly.csv"), spec_values={}, flags=flags
    )


def under(path: str | Path, folder: str) -> bool:
    return PurePosixPath(folder) in PurePosixPath(path).parents


def test_the_console_script_is_scf_batch() -> None:
    """The name every example runs is the one the package installs."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    assert SCRIPT in project["project"]["scripts"]


# -- the Dockerfile ------------------------------------------------------------------------------


def dockerfile() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuation lines joined, comments dropped)."""
    text = (REPO / "Dockerfile").read_text(encoding="utf-8")
    text = re.sub(r"\\\n", " ", text)
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def instruction(name: str) -> list[str]:
    return [rest for keyword, rest in dockerfile() if keyword == name]


def test_the_image_runs_scf_batch_as_a_user_with_runs_as_its_volume() -> None:
    """ENTRYPOINT is the console script, the last USER is not root, /runs is the VOLUME."""
    assert [[SCRIPT]] == [json.loads(rest) for rest in instruction("ENTRYPOINT")]
    user = instruction("USER")[-1].split(":")[0]
    assert user not in {"root", "0"}
    assert [["/runs"]] == [json.loads(rest) for rest in instruction("VOLUME")]


def test_the_image_copies_what_the_wheel_carries_and_dockerignore_lets_it_in() -> None:
    """Each file the wheel force-includes is copied into the build, and each copied path is
    let into the context by .dockerignore (which ignores everything else)."""
    copied = [rest.split()[:-1] for rest in instruction("COPY") if not rest.startswith("--from")]
    sources = {source for sources in copied for source in sources}
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    carried = project["tool"]["hatch"]["build"]["targets"]["wheel"]["force-include"]
    assert {p for p in carried if not any(p == s or under(p, s) for s in sources)} == set()
    allowed = {
        line[1:].rstrip("/")
        for line in (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.startswith("!")
    }
    assert sources - allowed == set()
    assert all((REPO / source).exists() for source in sources)


# -- Kubernetes ----------------------------------------------------------------------------------


def kubernetes() -> dict[str, dict[str, Any]]:
    """The documents of cronjob.yaml by kind."""
    text = (DEPLOY / "kubernetes" / "cronjob.yaml").read_text(encoding="utf-8")
    return {document["kind"]: document for document in yaml.safe_load_all(text)}


def test_the_cronjob_never_overlaps_and_gives_up_a_late_start() -> None:
    """concurrencyPolicy Forbid and a startingDeadlineSeconds; no retry by the Job."""
    spec = kubernetes()["CronJob"]["spec"]
    assert "Forbid" == spec["concurrencyPolicy"]
    assert spec["startingDeadlineSeconds"] > 0
    assert 0 == spec["jobTemplate"]["spec"]["backoffLimit"]


def pod() -> dict[str, Any]:
    spec: dict[str, Any] = kubernetes()["CronJob"]["spec"]["jobTemplate"]["spec"]["template"][
        "spec"
    ]
    return spec


def test_the_cronjob_runs_a_command_that_parses_and_exits_0_on_a_stop() -> None:
    """The container's args (after the image's ENTRYPOINT) parse as `scf-batch run`, with
    --exit-zero-on-stop (a Job cannot map 4 or 75 to success)."""
    (container,) = pod()["containers"]
    assert "command" not in container  # the image's ENTRYPOINT: scf-batch
    assert run_settings(container["args"]).exit_zero_on_stop


def test_the_run_folder_is_on_the_claim_and_the_job_on_the_config_map() -> None:
    """--out lies under the mount of the PersistentVolumeClaim this file declares, which is the
    image's VOLUME; the job spec lies under the ConfigMap's mount."""
    (container,) = pod()["containers"]
    volumes = {volume["name"]: volume for volume in pod()["volumes"]}
    mounts = {mount["mountPath"]: volumes[mount["name"]] for mount in container["volumeMounts"]}
    settings = run_settings(container["args"])
    (runs,) = [path for path in mounts if under(settings.out, path)]
    claim = mounts[runs]["persistentVolumeClaim"]["claimName"]
    assert kubernetes()["PersistentVolumeClaim"]["metadata"]["name"] == claim
    assert [runs] == [json.loads(rest)[0] for rest in instruction("VOLUME")]
    job = parsed(container["args"]).params["job"]
    assert any(under(job, path) and "configMap" in mounts[path] for path in mounts)


def test_the_key_comes_from_a_secret_and_the_user_is_the_images() -> None:
    """CLOSE_API_KEY from a secretKeyRef (never a literal); the pod runs as the image's uid."""
    (container,) = pod()["containers"]
    (key,) = [env for env in container["env"] if env["name"] == "CLOSE_API_KEY"]
    assert "value" not in key
    assert {"name", "key"} <= key["valueFrom"]["secretKeyRef"].keys()
    uid = instruction("USER")[-1].split(":")[0]
    assert int(uid) == pod()["securityContext"]["runAsUser"]


# -- systemd -------------------------------------------------------------------------------------


class UnitFile(configparser.ConfigParser):
    """A systemd unit read as the INI text it is: keys keep their case, no interpolation."""

    def __init__(self) -> None:
        super().__init__(interpolation=None)

    def optionxform(self, optionstr: str) -> str:
        return optionstr


def unit(name: str) -> UnitFile:
    parser = UnitFile()
    parser.read_string((DEPLOY / "systemd" / name).read_text(encoding="utf-8"))
    return parser


def test_the_service_runs_a_command_that_parses_with_its_run_folder_in_its_state() -> None:
    """ExecStart runs the installed scf-batch; its flags parse; --out lies under the state
    folder systemd makes for the user (StateDirectory=)."""
    service = unit("scf-batch.service")["Service"]
    program, *argv = shlex.split(service["ExecStart"])
    assert SCRIPT == PurePosixPath(program).name
    settings = run_settings(argv)
    assert under(settings.out, f"/var/lib/{service['StateDirectory']}")
    assert service["WorkingDirectory"] == f"/var/lib/{service['StateDirectory']}"
    assert settings.metrics_file is not None


def test_the_service_counts_a_stop_and_a_held_lock_as_success() -> None:
    """SuccessExitStatus lists exactly the codes --exit-zero-on-stop forgives (4 and 75)."""
    service = unit("scf-batch.service")["Service"]
    assert {int(code) for code in service["SuccessExitStatus"].split()} == set(STOPS)


def test_the_timer_starts_the_service_and_catches_up_a_missed_night() -> None:
    """The timer (same name as the service) has a calendar, Persistent=true, and is enabled
    by timers.target."""
    timer = unit("scf-batch.timer")
    assert timer["Timer"]["OnCalendar"]
    assert "true" == timer["Timer"]["Persistent"]
    assert "timers.target" == timer["Install"]["WantedBy"]
    assert (DEPLOY / "systemd" / "scf-batch.service").is_file()


# -- cron ----------------------------------------------------------------------------------------

CRON_FIELD = re.compile(r"\*|\d+(-\d+)?(/\d+)?(,\d+(-\d+)?(/\d+)?)*|\*/\d+")
CRON_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))


def cron_lines() -> tuple[dict[str, str], list[str]]:
    """The cron.d file's variables and its job lines (comments and blank lines dropped)."""
    variables, jobs = {}, []
    for line in (DEPLOY / "cron" / "scf-batch.cron").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, equals, value = line.partition("=")
        if equals and re.fullmatch(r"[A-Za-z_]+", name):
            variables[name] = value
        else:
            jobs.append(line)
    return variables, jobs


def test_the_cron_file_is_one_valid_cron_d_line_ending_with_a_newline() -> None:
    """Five time fields in range, a user, a command with no `%` (cron would cut it there), and
    the newline cron needs after the last line."""
    text = (DEPLOY / "cron" / "scf-batch.cron").read_text(encoding="utf-8")
    assert text.endswith("\n")
    _, (line,) = cron_lines()
    *fields, user, command = line.split(None, 6)
    for field, (low, high) in zip(fields, CRON_RANGES, strict=True):
        assert CRON_FIELD.fullmatch(field), field
        assert all(low <= int(n) <= high for n in re.findall(r"\d+", field.split("/")[0]))
    assert "scf-batch" == user
    assert "%" not in command


def test_the_cron_command_is_valid_shell_and_runs_scf_batch_in_its_state_folder() -> None:
    """sh parses the command as written; the scf-batch it execs is on the file's PATH; its
    flags parse and --out lies under the folder it changes to."""
    variables, (line,) = cron_lines()
    command = line.split(None, 6)[6]
    checked = subprocess.run(
        [variables["SHELL"], "-n", "-c", command], capture_output=True, text=True, check=False
    )
    assert (0, "") == (checked.returncode, checked.stderr)
    words = shlex.split(command)
    folder = words[words.index("cd") + 1]
    start = words.index("exec") + 1
    end = words.index(">>")
    assert SCRIPT == words[start]
    assert "/opt/scf-batch/bin" in variables["PATH"].split(":")
    assert under(run_settings(words[start + 1 : end]).out, folder)


# -- the example job -----------------------------------------------------------------------------


def test_the_example_job_spec_loads_and_leaves_the_run_folder_to_the_flag(tmp_path: Path) -> None:
    """deploy/nightly.toml is a valid spec, its operations file beside it, and sets no `out`
    (each scheduler's --out puts the run folder on kept storage)."""
    spec = tmp_path / "nightly.toml"
    spec.write_text((DEPLOY / "nightly.toml").read_text(encoding="utf-8"), encoding="utf-8")
    job = load_job(spec)
    assert (tmp_path / "nightly.csv", None) == (job.operations, job.values.get("out"))


@pytest.mark.parametrize(
    "name",
    [
        "kubernetes/cronjob.yaml",
        "systemd/scf-batch.service",
        "systemd/scf-batch.timer",
        "cron/scf-batch.cron",
        "kubernetes/fleet-indexed-job.yaml",
    ],
)
def test_the_deploy_readme_installs_every_example(name: str) -> None:
    """deploy/README.md names the command that installs each example file."""
    readme = (DEPLOY / "README.md").read_text(encoding="utf-8")
    assert f"deploy/{name}" in readme


@pytest.mark.slow  # a real `scf-batch run` subprocess against the simulator
def test_the_cron_command_runs_as_written(tmp_path: Path) -> None:
    """The cron line's command, its two folders moved under a temporary one and the venv's
    scf-batch first on its PATH, runs the job from the env file's key: exit 0, the JSON log
    appended to cron.log ending with the summary event, the run folder under the state folder."""
    variables, (line,) = cron_lines()
    state, etc = tmp_path / "var-lib-scf-batch", tmp_path / "etc-scf-batch"
    state.mkdir()
    etc.mkdir()
    command = line.split(None, 6)[6]
    command = command.replace("/var/lib/scf-batch", str(state)).replace("/etc/scf-batch", str(etc))
    with sim_process() as sim:
        (pair,) = new_pairs(sim, 1)
        write_csv(etc / "nightly.csv", [pair.row("row-0", "associate")])
        (etc / "nightly.toml").write_text('operations = "nightly.csv"\n', encoding="utf-8")
        (etc / "env").write_text(
            f"CLOSE_API_KEY={TARGET_KEY}\nCLOSE_BASE_URL={sim.base_url}\n", encoding="utf-8"
        )
        path = f"{Path(sys.executable).parent}:{variables['PATH']}"
        done = subprocess.run(
            [variables["SHELL"], "-c", command],
            env={"PATH": path, "HOME": str(tmp_path)},  # cron's bare environment
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert (0, "", "") == (done.returncode, done.stdout, done.stderr)
    log = (state / "cron.log").read_text(encoding="utf-8").splitlines()
    assert ("summary", 0) == (json.loads(log[-1])["event"], json.loads(log[-1])["exit_code"])
    assert (state / "runs" / "nightly" / "summary.json").is_file()


# -- the fleet as a Kubernetes Indexed Job -------------------------------------------------------


def fleet_job() -> dict[str, dict[str, Any]]:
    """The documents of fleet-indexed-job.yaml by kind."""
    text = (DEPLOY / "kubernetes" / "fleet-indexed-job.yaml").read_text(encoding="utf-8")
    return {document["kind"]: document for document in yaml.safe_load_all(text)}


def fleet_run_context(args: list[str], index: int) -> click.Context:
    """`scf-batch fleet run …` of pod `index`: $(JOB_COMPLETION_INDEX) as Kubernetes expands it,
    the group and its subcommand parsed by click."""
    argv = [arg.replace("$(JOB_COMPLETION_INDEX)", str(index)) for arg in args]
    top = click.Context(cli, info_name=SCRIPT)
    group = cli.get_command(top, argv[0])
    assert isinstance(group, click.Group), f"no command group {argv[0]!r}"
    group_context = click.Context(group, info_name=argv[0], parent=top)
    command = group.get_command(group_context, argv[1])
    assert command is not None, f"no command {argv[0]} {argv[1]!r}"
    return command.make_context(argv[1], argv[2:], parent=group_context)


def test_the_indexed_job_runs_shard_i_of_n_in_pod_i() -> None:
    """Pod I (of `completions`) runs `fleet run MANIFEST --shard I/N` with N = completions, so
    the pods together take every manifest position once; the index comes from the downward API."""
    job = fleet_job()["Job"]["spec"]
    assert job["completionMode"] == "Indexed"
    count = job["completions"]
    (container,) = job["template"]["spec"]["containers"]
    assert "command" not in container  # the image's ENTRYPOINT: scf-batch
    shards = [fleet_run_context(container["args"], i).params["shard"] for i in range(count)]
    assert shards == [f"{i}/{count}" for i in range(count)]
    (index,) = [env for env in container["env"] if env["name"] == "JOB_COMPLETION_INDEX"]
    assert "job-completion-index" in index["valueFrom"]["fieldRef"]["fieldPath"]


def test_the_indexed_jobs_run_folders_are_on_one_shared_claim() -> None:
    """--out lies under the mount of the ReadWriteMany claim the file declares (every pod
    mounts it at once); the manifest under the ConfigMap's; keys from a Secret, never literal."""
    documents = fleet_job()
    spec = documents["Job"]["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    mounts = {mount["mountPath"]: volumes[mount["name"]] for mount in container["volumeMounts"]}
    params = fleet_run_context(container["args"], 0).params
    (runs,) = [path for path in mounts if under(params["out"], path)]
    claim = documents["PersistentVolumeClaim"]
    assert mounts[runs]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert any(under(params["manifest"], p) and "configMap" in mounts[p] for p in mounts)
    assert [source["secretRef"]["name"] for source in container["envFrom"]] == ["scf-batch-fleet"]
    assert all("value" not in env for env in container["env"])


def test_the_indexed_jobs_workers_match_the_cpu_each_pod_asks_for() -> None:
    """Each pod runs as many worker processes as the CPUs it requests (without a CPU limit a
    pod sees every core of its node, and each worker holds its orgs' memory)."""
    spec = fleet_job()["Job"]["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    workers = fleet_run_context(container["args"], 0).params["workers"]
    assert workers == int(container["resources"]["requests"]["cpu"])
