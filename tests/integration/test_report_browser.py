"""The report in a real browser: Debian's headless Chromium, network off, no console
errors, a full-page screenshot, and a sortable table that re-orders when clicked.

Skipped with the reason where chromium or chromedriver is not installed; .ci/run
installs both, so CI always runs it."""

import shutil

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.browser]

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser():
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
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_network_conditions(offline=True, latency=0, download_throughput=0, upload_throughput=0)
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
