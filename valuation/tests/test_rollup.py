"""The tree sum behind rollups: parents equal the sum of their parts, regional figures supersede."""

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from valuation.rollup import sum_tree

money = st.decimals(min_value=0, max_value=Decimal("1e12"), places=6, allow_nan=False, allow_infinity=False)


@st.composite
def trees(draw):
    """A random division tree (node 0 is the root) with plot sums on any node and a few regional
    figures."""
    size = draw(st.integers(min_value=1, max_value=30))
    parents = {n: draw(st.integers(min_value=0, max_value=n - 1)) for n in range(1, size)}
    children = {}
    for node, parent in parents.items():
        children.setdefault(parent, []).append(node)
    own = {(n, "k"): draw(money) for n in range(size) if draw(st.booleans())}
    regional = {(n, "k"): draw(money) for n in range(size) if draw(st.integers(0, 9)) == 0}
    return children, own, regional, size


@settings(max_examples=80, deadline=None)
@given(trees())
def test_every_parent_is_its_own_part_plus_its_children(tree):
    children, own, regional, size = tree
    totals, superseded = sum_tree(0, children, own, regional, ["k"])
    assert len(totals) == size
    for node in range(size):
        parts = own.get((node, "k"), Decimal(0)) + sum(
            (totals[(c, "k")] for c in children.get(node, [])), Decimal(0)
        )
        if (node, "k") in regional:
            assert totals[(node, "k")] == regional[(node, "k")]
            assert (parts == 0) or (node, "k", parts) in superseded
        else:
            assert totals[(node, "k")] == parts  # exact: Decimal sums, no rounding


@settings(max_examples=50, deadline=None)
@given(trees(), st.integers(min_value=1, max_value=1000))
def test_without_regional_figures_totals_scale_linearly(tree, factor):
    children, own, _regional, _size = tree
    base, _ = sum_tree(0, children, own, {}, ["k"])
    scaled, _ = sum_tree(0, children, {k: v * factor for k, v in own.items()}, {}, ["k"])
    assert scaled[(0, "k")] == base[(0, "k")] * factor
    assert base[(0, "k")] == sum(own.values(), Decimal(0))


def test_a_deep_chain_does_not_recurse():
    children = {n: [n + 1] for n in range(5000)}
    totals, _ = sum_tree(0, children, {(5000, "k"): Decimal("1.5")}, {}, ["k"])
    assert totals[(0, "k")] == Decimal("1.5")
