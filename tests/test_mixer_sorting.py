"""The fast sorts of stage 2 give exactly numpy's stable orders (ties by position included)."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from komt_data.decide.keys import sort_order
from komt_data.decide.rules import exact_dedup

# Few distinct values: many ties, the case the fast paths must put back in order.
values = st.lists(st.integers(0, 12), max_size=80).map(lambda v: np.array(v, np.uint64))


@settings(max_examples=300, deadline=None)
@given(values)
def test_sort_order_is_a_stable_argsort(primary):
    assert np.array_equal(sort_order(primary), np.argsort(primary, kind="stable"))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_sort_order_with_a_secondary_key_is_a_lexsort(data):
    primary = data.draw(values)
    secondary = np.array(data.draw(st.lists(st.integers(0, 3), min_size=len(primary), max_size=len(primary))),
                         np.uint64)
    assert np.array_equal(sort_order(primary, secondary), np.lexsort((secondary, primary)))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_exact_dedup_matches_first_occurrences(data):
    key = data.draw(values)
    # Examples in input order, some with several records (one per template).
    example = np.cumsum(data.draw(st.lists(st.booleans(), min_size=len(key), max_size=len(key)))).astype(np.int64)
    duplicate, first_of = exact_dedup(key, example)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    assert first_of.dtype == np.int64
    assert np.array_equal(first_of, first[inverse.reshape(-1)])
    assert np.array_equal(duplicate, example != example[first_of])


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_exact_dedup_keeps_the_first_evaluation_record_of_a_key(data):
    key = data.draw(values)
    example = np.arange(len(key), dtype=np.int64)
    evaluation = np.array(data.draw(st.lists(st.booleans(), min_size=len(key), max_size=len(key))), bool)
    duplicate, first_of = exact_dedup(key, example, evaluation)
    # A plain reference: per key, its first evaluation record if it has one, else its first record.
    for i, k in enumerate(key.tolist()):
        same = np.flatnonzero(key == k)
        bound = same[evaluation[same]]
        assert first_of[i] == (bound[0] if len(bound) else same[0])
    assert np.array_equal(duplicate, example != example[first_of])
    # No evaluation record at all: the plain first-occurrence rule.
    plain = exact_dedup(key, example, np.zeros(len(key), bool))
    assert np.array_equal(plain[1], exact_dedup(key, example)[1])
