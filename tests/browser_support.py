"""One way to start the headless Chromium the page tests drive (selenium, offline).

Without Chromium or its driver a browser test skips, saying what to install -- unless
the CI environment variable is set (.ci/run sets it): there a missing browser fails.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = next(filter(None, map(shutil.which, ("chromium", "chromium-browser",
                                                 "google-chrome"))), None)
DRIVER = shutil.which("chromedriver")
INSTALL = "sudo apt-get install chromium chromium-driver"


def chromium(what: str, *, window: tuple[int, int] | None = (1400, 1000),
             viewport: tuple[int, int] | None = None,
             hide_scrollbars: bool = False) -> Iterator[Any]:
    """Yield a headless Chromium driver for ``what`` (named in the skip message); quit it
    afterwards. ``viewport`` makes the page itself that many CSS pixels (a window of that
    size has less inside); ``window`` is the window's size otherwise."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is in the test extra")
    if CHROMIUM is None or DRIVER is None:
        missing = "chromium" if CHROMIUM is None else "chromedriver"
        message = f"{what} needs {missing}: {INSTALL}"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI must run it)")
        pytest.skip(message)
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    arguments = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-extensions", "--no-first-run"]
    if window is not None:
        arguments.append(f"--window-size={window[0]},{window[1]}")
    if hide_scrollbars:
        arguments.append("--hide-scrollbars")
    for argument in arguments:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.set_page_load_timeout(30)
    if viewport is not None:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": viewport[0], "height": viewport[1],
                                "deviceScaleFactor": 1, "mobile": False})
    try:
        yield driver
    finally:
        driver.quit()


def uncovered_point(browser: Any) -> int:
    """The index (``data-point``) of a training explorer's data point that no other point
    covers at its centre, so a click there reaches it."""
    return browser.execute_script("""
        var circles = Array.from(document.querySelectorAll('.ctx-point'));
        return +circles.find(function (c) {
          var r = c.getBoundingClientRect();
          return document.elementFromPoint(r.x + r.width / 2, r.y + r.height / 2) === c;
        }).getAttribute('data-point');""")
