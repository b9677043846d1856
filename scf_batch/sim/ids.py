"""Ids in Close's forms: a prefix, then 43 (fields, orgs, users) or 22 base62 characters."""

from __future__ import annotations

import hashlib
import random

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
LONG = 43
SHORT = 22
LENGTHS = {"cf_": LONG, "orga_": LONG, "user_": LONG, "actitype_": SHORT, "cotype_": SHORT}
LENGTHS["role_"] = SHORT


def random_id(prefix: str, rng: random.Random) -> str:
    """A fresh id for an object created at run time (deterministic when `rng` is seeded)."""
    return prefix + "".join(rng.choices(BASE62, k=LENGTHS[prefix]))


def stable_id(prefix: str, *parts: str) -> str:
    """The same id for the same parts on every run: how the seed file's ids were made."""
    number = int.from_bytes(hashlib.sha512("\x1f".join((prefix, *parts)).encode()).digest())
    chars = []
    for _ in range(LENGTHS[prefix]):
        number, digit = divmod(number, 62)
        chars.append(BASE62[digit])
    return prefix + "".join(chars)
