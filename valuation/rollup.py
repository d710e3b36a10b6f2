"""Summing results up the division tree: pure data in, exact Decimal totals out.

A division's total of an indicator is its own plot results plus its children's totals, unless the
division has a regional figure for that indicator (a statistic accounted for the whole region), which
then replaces everything beneath it so that nothing is counted twice.
"""

from decimal import Decimal


def sum_tree(root, children, own, regional, keys):
    """Totals {(node, key): Decimal} for every node under `root` (inclusive) and the replaced plot
    sums [(node, key, below)] where a regional figure superseded non-zero results beneath it.

    children: {node: [child nodes]}; own: {(node, key): Decimal}; regional: {(node, key): Decimal}.
    """
    totals, superseded = {}, []
    order = _post_order(root, children)
    for key in keys:
        for node in order:  # children before parents: no recursion depth limit on deep trees
            below = own.get((node, key), Decimal(0))
            for child in children.get(node, ()):
                below += totals[(child, key)]
            if (node, key) in regional:
                if below:
                    superseded.append((node, key, below))
                totals[(node, key)] = regional[(node, key)]
            else:
                totals[(node, key)] = below
    return totals, superseded


def _post_order(root, children):
    order, stack = [], [(root, False)]
    while stack:
        node, expanded = stack.pop()
        if expanded:
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((child, False) for child in children.get(node, ()))
    return order
