from engine.graph import Graph
from engine.scheduling import JOIN_FIRST, JoinState, first_join_losers, propagate


def setup(edges):
    ids = sorted({x for edge in edges for x in edge[:2]})
    g = Graph([{"id": i} for i in ids], [{"from": a, "to": b, **({"port": p[0]} if p else {})} for a, b, *p in edges])
    states = {i: JoinState(len(g.incoming[i])) for i in ids}
    return g, states


def test_join_starts_only_when_its_last_edge_resolves():
    g, states = setup([("s", "a"), ("s", "b"), ("a", "j"), ("b", "j")])
    assert propagate(g, "s", {"main"}, states).start == ["a", "b"]
    assert propagate(g, "a", {"main"}, states).start == []
    assert propagate(g, "b", {"main"}, states).start == ["j"]


def test_untaken_port_skips_and_the_skip_flows_on_but_not_into_a_join_with_a_taken_edge():
    g, states = setup([("s", "if"), ("if", "yes", "true"), ("if", "no", "false"), ("no", "after_no"),
                       ("yes", "j"), ("after_no", "j")])
    propagate(g, "s", {"main"}, states)
    decision = propagate(g, "if", {"true"}, states)
    assert decision.start == ["yes"]
    assert decision.skip == ["no", "after_no"]
    assert propagate(g, "yes", {"main"}, states).start == ["j"]


def test_join_with_every_input_skipped_is_skipped():
    g, states = setup([("s", "if"), ("if", "a", "true"), ("if", "b", "true"), ("a", "j"), ("b", "j"), ("if", "c", "false")])
    propagate(g, "s", {"main"}, states)
    decision = propagate(g, "if", {"false"}, states)
    assert decision.start == ["c"]
    assert sorted(decision.skip) == ["a", "b", "j"]


def test_first_mode_join_starts_on_its_first_taken_edge_and_only_once():
    g, states = setup([("s", "a"), ("s", "b"), ("a", "j"), ("b", "j")])
    mode = lambda node_id: JOIN_FIRST if node_id == "j" else "all"  # noqa: E731
    propagate(g, "s", {"main"}, states, mode)
    assert propagate(g, "b", {"main"}, states, mode).start == ["j"]
    assert propagate(g, "a", {"main"}, states, mode).start == []


def test_first_join_losers_are_the_open_nodes_that_only_feed_the_join():
    g, _ = setup([("s", "a"), ("s", "b"), ("a", "a2"), ("a2", "j"), ("b", "j"), ("a", "elsewhere")])
    # a also feeds "elsewhere", so only a2 may be cancelled.
    assert first_join_losers(g, "j", ["a", "a2"]) == ["a2"]


def test_first_join_losers_are_found_when_nodes_follow_the_join():
    g, _ = setup([("s", "a"), ("s", "b"), ("a", "j"), ("b", "b2"), ("b2", "j"), ("j", "after")])
    assert first_join_losers(g, "j", ["b", "b2"]) == ["b", "b2"]
