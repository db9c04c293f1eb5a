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
