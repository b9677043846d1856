"""The per-pair containers: PairTable (exact int keys -> a few small ints) and Interned."""

from __future__ import annotations

import random

import pytest

from scf_batch.models import MAX_CODE, Interned, PairTable, pair_key


def test_the_table_holds_every_column_of_every_key_through_overwrites() -> None:
    """Many keys, some overwritten, with values at both ends of a column's range: each reads
    back its last values column by column, and a key never put reads back None."""
    rng = random.Random(7)
    table, expected = PairTable(3), {}
    keys = [pair_key(f, t) for f in range(1, 3001) for t in (1, 2, 3, 4, 5)]
    keys += [rng.randrange(1, 1 << 64) for _ in range(5000)]
    for key in keys:
        values = (rng.randrange(MAX_CODE + 1), 0, MAX_CODE)
        table.put(key, values)
        expected[key] = values
    for key in keys[::3]:
        expected[key] = (1, 2, 3)
        table.put(key, (1, 2, 3))
    assert len(table) == len(expected)
    assert all(table.get(key) == values for key, values in expected.items())
    assert table.get(pair_key(3001, 1)) is None


def test_keys_and_values_out_of_range_are_refused() -> None:
    """Key 0 marks an empty slot and codes are 4 bytes: neither is silently bent."""
    table = PairTable(1)
    with pytest.raises(ValueError, match="start at 1"):
        table.put(0, (1,))
    with pytest.raises(OverflowError):
        table.put(1, (MAX_CODE + 1,))
    assert (len(table), table.get(1)) == (0, None)
    with pytest.raises(ValueError, match="pair codes"):
        pair_key(MAX_CODE + 1, 1)
    with pytest.raises(ValueError, match="pair codes"):
        pair_key(1, 0)


def test_equal_values_share_one_code() -> None:
    """Interned gives 1, 2, ... in the order first met, and the same code again for an equal
    value."""
    interned: Interned[tuple[str, frozenset[str]]] = Interned()
    first = interned.code(("a", frozenset({"x", "y"})))
    second = interned.code(("b", frozenset()))
    assert (first, second) == (1, 2)
    assert interned.code(("a", frozenset({"y", "x"}))) == first
    assert interned.value(second) == ("b", frozenset())
    assert len(interned) == 2
