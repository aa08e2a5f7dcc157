"""Property tests of the mixing plan: exact totals, capacities, caps, submixtures, determinism."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from komt_data.decide.plan import Node, allocate, largest_remainder, plan_tree

tasks = st.lists(
    st.tuples(st.integers(0, 5000), st.floats(0.1, 10), st.one_of(st.none(), st.integers(1, 3000)),
              st.booleans()),
    min_size=1, max_size=6,
)


def _nodes(spec):
    return tuple(Node(f"t{i}", weight=w, cap=cap, available=n, capacity=n * 3 if repeat else n)
                 for i, (n, w, cap, repeat) in enumerate(spec))


@settings(max_examples=200, deadline=None)
@given(tasks, st.integers(1, 20000), st.floats(0.5, 5))
def test_counts_sum_to_total_unless_every_task_is_full(spec, total, temperature):
    nodes = _nodes(spec)
    counts = plan_tree(nodes, total, temperature)
    capacity = [n.capacity if n.cap is None else min(n.capacity, n.cap) for n in nodes]
    assert all(counts[n.name] <= c for n, c in zip(nodes, capacity, strict=True))
    if sum(capacity) >= total:
        assert sum(counts.values()) == total
    else:
        assert counts == {n.name: c for n, c in zip(nodes, capacity, strict=True)}


@settings(max_examples=200, deadline=None)
@given(tasks)
def test_without_total_each_task_gives_min_of_available_and_cap(spec):
    nodes = _nodes(spec)
    counts = plan_tree(nodes, None, 1.0)
    assert counts == {n.name: n.available if n.cap is None else min(n.available, n.cap) for n in nodes}


@settings(max_examples=200, deadline=None)
@given(tasks, st.integers(1, 20000))
def test_never_more_than_available_without_repeat(spec, total):
    nodes = tuple(Node(n.name, n.weight, n.cap, n.available, n.available) for n in _nodes(spec))
    counts = plan_tree(nodes, total, 1.0)
    assert all(counts[n.name] <= n.available for n in nodes)
    assert plan_tree(nodes, total, 1.0) == counts  # deterministic


@given(st.integers(0, 10**6), st.lists(st.floats(0.001, 1000), min_size=1, max_size=10))
def test_largest_remainder_is_exact(total, rates):
    counts = largest_remainder(total, rates)
    assert sum(counts) == total
    shares = [total * r / sum(rates) for r in rates]
    assert all(abs(c - s) < 1 for c, s in zip(counts, shares, strict=True))


def test_two_to_one_weights_with_a_total():
    nodes = (Node("nli", 2.0, available=5000, capacity=5000), Node("sts", 1.0, available=5000, capacity=5000))
    assert allocate(nodes, 3000, 1.0) == {"nli": 2000, "sts": 1000}


def test_a_full_task_gives_its_shortfall_to_the_others():
    # Rates at T=2: small 10 × √100 = 100, big √100000 ≈ 316: small's share (240) exceeds its 100.
    nodes = (Node("small", 10.0, available=100, capacity=100), Node("big", 1.0, available=100000, capacity=100000))
    counts = allocate(nodes, 1000, 2.0)
    assert counts == {"small": 100, "big": 900}


def test_temperature_flattens_the_mix():
    nodes = (Node("a", available=100, capacity=10**6), Node("b", available=10000, capacity=10**6))
    flat = allocate(nodes, 1010, 1e9)  # a huge temperature: equal rates
    assert flat == {"a": 505, "b": 505}
    proportional = allocate(nodes, 1010, 1.0)
    assert proportional == {"a": 10, "b": 1000}


def test_submixture_divides_its_share_by_its_own_rates():
    sub = Node("sub", weight=1.0, temperature=1.0, children=(
        Node("x", 3.0, available=1000, capacity=1000), Node("y", 1.0, available=1000, capacity=1000)))
    top = (Node("main", 1.0, available=2000, capacity=2000), sub)
    counts = plan_tree(top, 1000, 1.0)
    assert sum(counts.values()) == 1000
    # main and the submixture have the same size (2000), so they split 500 / 500;
    # inside, x and y have equal sizes and weights 3:1.
    assert counts == {"main": 500, "x": 375, "y": 125}
