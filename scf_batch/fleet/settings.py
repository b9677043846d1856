"""An org of the fleet -> the RunSettings of its ordinary run, in `<out>/<org name>/`."""

from __future__ import annotations

from scf_batch.fleet.manifest import FleetOrg, Manifest
from scf_batch.job.spec import load_job
from scf_batch.options import RunSettings, build_settings


def org_settings(manifest: Manifest, org: FleetOrg) -> RunSettings:
    """The org's job with the fleet's defaults and the org's own options over it; its folder,
    key variable and pin come from the manifest, whatever the job spec says."""
    spec = load_job(org.job)
    flags = {**org.options, "out": str(manifest.out / org.name)}
    return build_settings(
        name=org.name,
        operations=spec.operations,
        spec_values=spec.values,
        flags=flags,
        api_key_env=org.api_key_env or spec.api_key_env,
        token_env=org.token_env or spec.token_env,
    )
