"""The browser tests' own Chromium (tests/frontend/conftest.py)."""

import pytest

pytestmark = pytest.mark.browser


def test_a_chromium_that_went_away_is_launched_again_for_the_next_test(browser):
    first = browser.get()
    first.close()  # what a crash leaves behind: a browser no longer connected
    second = browser.get()
    assert second is not first and second.is_connected()
    page = second.new_page()
    page.set_content("<p>still testing</p>")
    assert page.inner_text("p") == "still testing"
    page.close()


def test_a_browser_test_gets_one_more_try_only_when_chromium_went_away(browser, request):
    from tests.frontend.conftest import chromium_went_away

    marker = request.node.get_closest_marker("flaky")
    assert marker.kwargs == {"reruns": 1, "condition": chromium_went_away}
    browser.get()
    assert not chromium_went_away(AssertionError("a test's own failure"))
    browser.get().close()
    assert chromium_went_away(AssertionError("Target page, context or browser has been closed"))
    browser.get()
    assert not chromium_went_away()


def test_a_crashed_page_counts_as_chromium_gone(page):
    from tests.frontend.conftest import chromium_went_away

    page.set_content("<p>before</p>")
    assert not chromium_went_away()
    with page.expect_event("crash"), pytest.raises(Exception):
        page.goto("chrome://crash")
    assert page.crashed and chromium_went_away()
