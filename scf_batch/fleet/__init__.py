"""The fleet: one manifest, many orgs, each an ordinary run in its own folder."""
