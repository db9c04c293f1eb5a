import pytest

from engine.graph import Graph


def graph(edges, nodes=None):
    ids = nodes or sorted({x for edge in edges for x in edge[:2]})
    return Graph([{"id": i} for i in ids], [{"from": a, "to": b, **({"port": p[0]} if p else {})} for a, b, *p in edges])


def test_ancestors_of_a_non_series_parallel_dag():
    g = graph([("a", "b"), ("a", "c"), ("b", "d"), ("c", "d"), ("b", "e"), ("d", "e")])
    assert g.ancestors("e") == ["a", "b", "c", "d"]
    assert g.ancestors("d") == ["a", "b", "c"]
    assert g.is_ancestor("c", "e") and not g.is_ancestor("e", "c") and not g.is_ancestor("b", "c")


def test_ancestors_of_a_long_chain_do_not_recurse():
    ids = [f"n{i}" for i in range(5000)]
    g = graph(list(zip(ids, ids[1:])), ids)
    assert len(g.ancestors("n4999")) == 4999
    assert g.is_ancestor("n0", "n4999")


def test_find_cycle_names_the_nodes_on_it():
    g = graph([("t", "a"), ("a", "b"), ("b", "c"), ("c", "a")])
    cycle = g.find_cycle()
    assert cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}
    with pytest.raises(ValueError):
        g.topological_order


def test_no_cycle_in_a_dag_and_topological_order_respects_edges():
    g = graph([("a", "b"), ("a", "c"), ("c", "b")])
    assert g.find_cycle() is None
    order = g.topological_order
    assert order.index("c") < order.index("b")


def test_edges_to_unknown_nodes_are_left_out():
    g = Graph([{"id": "a"}], [{"from": "a", "to": "ghost"}])
    assert g.outgoing["a"] == []


def test_ancestor_view_answers_membership_without_listing_and_lists_in_document_order():
    g = graph([("a", "b"), ("b", "c"), ("x", "c"), ("c", "d")])
    view = g.ancestor_view("c")
    assert "a" in view and "x" in view and "d" not in view and "ghost" not in view
    assert view._list is None  # membership alone built no list
    assert list(view) == ["a", "b", "x"] and len(view) == 3
