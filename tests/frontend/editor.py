"""What a person does in the editor, as Playwright steps (shared by the browser tests)."""

import re
import time

from playwright.sync_api import expect


def sign_in(page, live_server, username="alice", password="alice-password-1", path="/"):
    page.goto(live_server.url + path)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(live_server.url + path) + "$"))


def open_editor(page, live_server, workflow_id):
    page.goto(f"{live_server.url}/workflows/{workflow_id}")
    wait_until_interactive(page)


def wait_until_interactive(page, timeout=20_000):
    page.wait_for_selector("body[data-editor-ready=true]", timeout=timeout)


def canvas_node(page, node_id):
    return page.locator(f'.react-flow__node[data-id="{node_id}"]')


def drag_from_palette(page, node_type, x, y):
    """Drags a node type from the palette onto the canvas at (x, y) of the visible pane."""
    page.locator(f'.nf-palette [data-node-type="{node_type}"]').drag_to(page.locator(".react-flow__pane"), target_position={"x": x, "y": y})


def _centre(box):
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def connect(page, source, target, port="main"):
    """Drags from `source`'s output port to `target`'s input, as a person does with the mouse."""
    target_handle = page.locator(f'.react-flow__node[data-id="{target}"] .react-flow__handle.target')
    start = _centre(page.locator(f'.react-flow__node[data-id="{source}"] .react-flow__handle.source[data-handleid="{port}"]').bounding_box())
    page.mouse.move(*start)
    page.mouse.down()
    page.mouse.move(start[0] + 20, start[1] + 5, steps=4)
    page.mouse.move(*_centre(target_handle.bounding_box()), steps=10)
    # Aim again where the handle is now (the canvas may have re-rendered meanwhile).
    page.mouse.move(*_centre(target_handle.bounding_box()), steps=2)
    page.mouse.up()


def node_positions(page):
    """{node id: (x, y)} as drawn, in canvas coordinates (independent of zoom and pan)."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('.react-flow__node')].map((el) => {
            const m = /translate\\(([-0-9.]+)px, ([-0-9.]+)px\\)/.exec(el.style.transform);
            return [el.dataset.id, [Math.round(+m[1]), Math.round(+m[2])]];
        }))"""
    )


def edge_ids(page):
    return sorted(page.evaluate("() => [...document.querySelectorAll('.react-flow__edge')].map((el) => el.dataset.id)"))


def expect_edges(page, expected, timeout_s=5.0):
    """Waits until the canvas draws exactly these connections: an edge is drawn only once the
    handles it joins are measured, which can be a frame after the node that changed its ports."""
    deadline = time.monotonic() + timeout_s
    while (drawn := edge_ids(page)) != sorted(expected) and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert drawn == sorted(expected)


def save_state(page):
    return page.locator(".nf-save-state").get_attribute("data-state")


def chains_of_twenty(count, make_node, row_height, start_y):
    """A manual trigger and `count - 1` nodes in chains of twenty, side by side (large-document tests).

    make_node(index) gives a node's id, type and params; the layout and edges are added here."""
    nodes = [{"id": "start", "type": "trigger.manual", "position": [0, start_y]}]
    edges = []
    for index in range(1, count):
        row, column = divmod(index - 1, 20)
        node = make_node(index)
        nodes.append({**node, "position": [300 + column * 300, row * row_height]})
        edges.append({"from": "start" if column == 0 else nodes[-2]["id"], "to": node["id"]})
    return {"api_version": "nodeflow/v1", "name": f"{count} nodes", "nodes": nodes, "edges": edges}


def fill_run_dialog(page, text):
    """Open the Run dialog from the run bar and type `text` as the input JSON; returns the dialog."""
    page.get_by_role("button", name="Run", exact=True).click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Input (JSON)").fill(text)
    return dialog


def start_run(page, text="{}"):
    """Run the open workflow with `text` as its input; returns the new execution's id once its view shows."""
    fill_run_dialog(page, text).get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_role("status", name="Execution")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/executions/[0-9a-f-]{36}$"))
    return page.url.rsplit("/", 1)[1]
