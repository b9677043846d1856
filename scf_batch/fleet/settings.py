"""An org of the fleet -> the RunSettings of its ordinary run, in `<out>/<org name>/`."""

from __future__ import annotations

import os
from collections.abc import Mapping

import structlog

from scf_batch.close.credentials import is_close_or_loopback
from scf_batch.errors import UsageError
from scf_batch.fleet.manifest import NOT_PER_ORG, FleetOrg, Manifest
from scf_batch.job.spec import load_job
from scf_batch.options import RunSettings, build_settings


def org_settings(
    manifest: Manifest, org: FleetOrg, environ: Mapping[str, str] = os.environ
) -> RunSettings:
    """The org's job with the fleet's defaults and the org's own options over it; its folder,
    key variable and pin come from the manifest, whatever the job spec says. The base URL: the
    manifest's, else the job's, else $CLOSE_BASE_URL, else Close's. A manifest or job is data
    someone else may have written: its base URL may point at Close or at this machine only (the
    key would go there). What only the fleet decides (NOT_PER_ORG: the folder, monitoring, the
    exit code) is not taken from a job spec, with a warning naming the keys."""
    spec = load_job(org.job)
    flags = {**org.options, "out": str(manifest.out / org.name)}
    for source, url in (
        (manifest.path, flags.get("base_url")),
        (org.job, spec.values.get("base_url")),
    ):
        if isinstance(url, str) and not is_close_or_loopback(url):
            raise UsageError(
                f"{source}: base_url: found {url!r}; expected Close's API or a loopback address "
                "(the org's key would go there); set CLOSE_BASE_URL to use another host"
            )
    unused = sorted(key for key in spec.values if key in NOT_PER_ORG)
    if unused:
        structlog.get_logger("scf_batch.fleet").warning(
            "spec_keys_not_used_in_a_fleet", job=str(org.job), keys=unused
        )
    return build_settings(
        name=org.name,
        operations=spec.operations,
        spec_values={k: v for k, v in spec.values.items() if k not in NOT_PER_ORG},
        flags=flags,
        api_key_env=org.api_key_env or spec.api_key_env,
        token_env=org.token_env or spec.token_env,
        environ=environ,
        definitions=spec.definitions,
    )
