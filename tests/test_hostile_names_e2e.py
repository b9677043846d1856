"""Names from the server with terminal escapes, through every output a person or a monitor
reads: `plan`, `validate --online`, `run` (its summary and its logs, console and JSON),
`report`, its CSV and its HTML page. None may carry a raw control, bidi or line-separator
character: a name cannot retitle the window, move the cursor, or reorder what is shown. The
CSV's input columns are the user's own rows, kept exact (the CSV is data that round-trips);
its columns added by scf-batch (status, outcome, error) are held to the rule."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e import TARGET_KEY, cli_env
from tests.simproc import sim_process

pytestmark = pytest.mark.slow

SEED = Path(__file__).parents[1] / "data" / "sim" / "seed.json"
ORG = "Acme\x1b]0;owned\x07 Target\u202e"
FIELD = "Indus\rtry\x08\u2028x"
HIDDEN = ["\x1b", "\x07", "\r", "\x08", "\u202e", "\u2028"]


def hidden_in(text: str) -> list[str]:
    return [repr(char) for char in HIDDEN if char in text]


def test_hostile_names_reach_no_output_raw(tmp_path: Path) -> None:
    """The org's and a field's names carry ESC]0;…BEL, CR, backspace, U+202E and U+2028; every
    output of plan, validate, run, report and the files they write shows them escaped."""
    seed = json.loads(SEED.read_text(encoding="utf-8"))
    (org,) = [org for org in seed["orgs"] if TARGET_KEY in org["api_keys"]]
    org["name"] = ORG
    org["shared_custom_fields"][0]["name"] = FIELD
    seed_path = tmp_path / "seed.json"
    seed_path.write_text(json.dumps(seed), encoding="utf-8")
    job = tmp_path / "job.jsonl"
    rows = [
        {"action": "ensure", "scf_name": FIELD, "object_type": "lead", "required": True},
        {"action": "associate", "scf_name": "No Such Field", "object_type": "lead"},
    ]
    job.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    out = tmp_path / "run"
    with sim_process("--seed", str(seed_path)) as sim:
        base = ("--base-url", sim.base_url)
        commands = [
            ["plan", str(job), "--all", *base],
            ["plan", str(job), "--format", "json", *base],
            ["validate", str(job), "--online", *base],
            ["run", str(job), "--out", str(out), "--skip-invalid", *base, "--log-format", "json"],
            [
                *("run", str(job), "--out", str(tmp_path / "c"), "--skip-invalid", *base),
                *("--log-format", "console", "--no-progress"),
            ],
            [
                *("report", str(out), "--csv", str(tmp_path / "r.csv")),
                *("--html", str(tmp_path / "r.html")),
            ],
        ]
        seen = {}
        for command in commands:
            done = subprocess.run(
                [sys.executable, "-m", "scf_batch", *command],
                env=cli_env(),
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode in (0, 1, 2), done.stderr
            seen[" ".join(command[:2])] = hidden_in(done.stdout + done.stderr)
    seen["r.html"] = hidden_in((tmp_path / "r.html").read_text(encoding="utf-8"))
    with (tmp_path / "r.csv").open(encoding="utf-8", newline="") as handle:
        added = [" ".join((r["status"], r["outcome"], r["error"])) for r in csv.DictReader(handle)]
    seen["r.csv status, outcome, error"] = hidden_in(" ".join(added))
    assert seen == {name: [] for name in seen}
    assert "Acme" in (tmp_path / "r.html").read_text(encoding="utf-8")
