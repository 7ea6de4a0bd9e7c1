"""The report in a real browser: Debian's headless Chromium, network off, no console
errors, no request beyond the file itself, a full-page screenshot, a sortable table that
re-orders when clicked, and interactive figures that name a fit on hover, hide a method
from the legend, switch an axis to linear and choose the replicate.

Skipped with the reason where chromium or chromedriver is not installed; .ci/run
installs both, so CI always runs it."""

import shutil

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


def _chromium(*flags):
    """Headless Chromium, offline, logging the console and the network requests."""
    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        "--window-size=1300,1000",
        *flags,
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
    return driver


@pytest.fixture(scope="module")
def browser():
    driver = _chromium()
    yield driver
    driver.quit()


def test_report_loads_offline_without_console_errors_and_sorts(browser, tiny_run, tmp_path_factory):
    from selenium.webdriver.common.by import By

    browser.get((tiny_run / "report.html").as_uri())
    assert "fitflow report" in browser.title
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []
    images = browser.find_elements(By.CSS_SELECTOR, "img")
    assert images and all(browser.execute_script("return arguments[0].naturalWidth", img) > 0 for img in images)

    # Full-page screenshot, kept with the test's temporary files for a person to look at.
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1300, min(height, 30000))
    shot = tmp_path_factory.mktemp("screenshots") / "report.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

    board = browser.find_element(By.CSS_SELECTOR, "table.leaderboard[data-case='gaussian_peak [noise-0.05]']")
    headers = board.find_elements(By.CSS_SELECTOR, "thead th")
    column = next(i for i, h in enumerate(headers) if h.text.startswith("wall time"))

    def column_values():
        cells = board.find_elements(By.CSS_SELECTOR, f"tbody tr td:nth-child({column + 1})")
        return [c.get_attribute("data-value") for c in cells]

    def methods():
        return [
            r.find_element(By.CSS_SELECTOR, "td").get_attribute("data-value")
            for r in board.find_elements(By.CSS_SELECTOR, "tbody tr")
        ]

    before = methods()
    assert before == sorted(before)  # served in method order
    headers[column].click()
    ascending = [float(v) for v in column_values() if v]
    assert ascending == sorted(ascending) and column_values()[-1] == ""  # failed rows (no value) last
    # nlls (milliseconds) now comes before emcee (tenths of a second): the rows really moved.
    assert methods() != before and methods()[0] == "nlls" and sorted(methods()) == sorted(before)
    headers[column].click()
    descending = [float(v) for v in column_values() if v]
    assert descending == sorted(descending, reverse=True)
    assert "sorted-desc" in headers[column].get_attribute("class")


def _requests(browser):
    """The URLs the page asked for since the last call, from Chromium's performance log."""
    import json

    messages = [json.loads(entry["message"])["message"] for entry in browser.get_log("performance")]
    return [m["params"]["request"]["url"] for m in messages if m["method"] == "Network.requestWillBeSent"]


def _drawn_explorers(browser, report):
    """Load ``report``, scroll every interactive figure into view and wait until each is drawn."""
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(report.as_uri())
    count = browser.execute_script("return document.querySelectorAll('figure.explorer').length")
    for i in range(count):
        browser.execute_script(f"document.querySelectorAll('figure.explorer')[{i}].scrollIntoView()")
        WebDriverWait(browser, 20).until(
            lambda b, i=i: b.execute_script(
                f"return document.querySelectorAll('figure.explorer')[{i}].classList.contains('drawn')"
            )
        )
    return count


def test_interactive_figures_name_fits_hide_methods_switch_axes_and_replicates(browser, tiny_run):
    import pandas as pd
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    _requests(browser)  # drop what earlier tests asked for
    count = _drawn_explorers(browser, tiny_run / "report.html")
    # every problem's fits and pulls, the calibration and the cost of every fit
    assert count >= 4
    assert [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")] == []
    assert [url for url in _requests(browser) if not url.startswith(("file:", "data:"))] == []

    # Hover over a point of the cost explorer: the tooltip names that fit, as fits.csv does.
    cost = browser.find_element(By.CSS_SELECTOR, "figure.cost-explorer")
    browser.execute_script("arguments[0].scrollIntoView()", cost)
    point = cost.find_elements(By.CSS_SELECTOR, ".scatterlayer .trace .points path")[0]
    ActionChains(browser).move_to_element(point).perform()
    WebDriverWait(browser, 5).until(lambda b: cost.find_elements(By.CSS_SELECTOR, ".hoverlayer .hovertext"))
    tooltip = cost.find_element(By.CSS_SELECTOR, ".hoverlayer .hovertext").text
    plot = cost.find_element(By.CSS_SELECTOR, ".js-plotly-plot")
    hovered = browser.execute_script("return arguments[0].data[0].customdata[0]", plot)
    assert hovered in set(pd.read_csv(tiny_run / "fits.csv").fit_dir.str.removeprefix("fits/"))
    assert tooltip.startswith(hovered), (tooltip, hovered)

    # A click on the first method in the legend hides its points (and its median).
    shown = "return arguments[0].data.filter(t => t.visible === true).length"
    before = browser.execute_script(shown, plot)
    cost.find_elements(By.CSS_SELECTOR, ".legend .traces")[0].click()
    WebDriverWait(browser, 5).until(lambda b: b.execute_script(shown, plot) == before - 2)
    assert browser.execute_script("return arguments[0].data[0].visible", plot) == "legendonly"

    # The axis buttons switch the x axis between log and linear.
    for kind in ("linear", "log"):
        button = next(b for b in cost.find_elements(By.CSS_SELECTOR, ".updatemenu-button") if b.text == f"x: {kind}")
        button.click()
        WebDriverWait(browser, 5).until(
            lambda b, kind=kind: b.execute_script("return arguments[0].layout.xaxis.type", plot) == kind
        )

    # The fits explorer's menu shows another replicate: other data points.
    fits = browser.find_element(By.CSS_SELECTOR, "figure.fits-figure.explorer")
    browser.execute_script("arguments[0].scrollIntoView()", fits)
    plot = fits.find_element(By.CSS_SELECTOR, ".js-plotly-plot")
    data_y = "return JSON.stringify(arguments[0].data.find(t => t.visible === true && t.name === 'data').y)"
    first = browser.execute_script(data_y, plot)
    fits.find_element(By.CSS_SELECTOR, ".updatemenu-header-group").click()
    option = WebDriverWait(browser, 5).until(
        lambda b: next(
            (o for o in fits.find_elements(By.CSS_SELECTOR, ".updatemenu-dropdown-button") if o.text == "replicate 1"),
            None,
        )
    )
    option.click()
    WebDriverWait(browser, 5).until(lambda b: b.execute_script(data_y, plot) != first)
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []


def test_without_javascript_the_static_figures_stand_in(tiny_run):
    """JavaScript off: every figure with a static image shows it, and the figures that exist
    only interactively (every fit's cost, every fit's pulls) are hidden, not left empty."""
    from selenium.webdriver.common.by import By

    driver = _chromium("--blink-settings=scriptEnabled=false")
    try:
        driver.get((tiny_run / "report.html").as_uri())
        figures = driver.find_elements(By.CSS_SELECTOR, "figure.explorer")
        with_image = [f for f in figures if f.find_elements(By.TAG_NAME, "img")]
        without = [f for f in figures if f not in with_image]
        assert with_image and without
        assert all(f.find_element(By.TAG_NAME, "img").is_displayed() for f in with_image)
        assert not any(f.is_displayed() for f in without)
    finally:
        driver.quit()
