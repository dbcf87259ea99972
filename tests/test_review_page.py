"""The review page (`migrate ... --report review.html`): one self-contained HTML file, checked as text and
in a real headless browser (Debian's chromium, driven by selenium): counts per action, a filter.

Set STAFFBRIDGE_SCREENSHOT=path.png to keep a screenshot of the page as the browser drew it."""

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

from staffbridge.faces.cli.main import main

STAFF = (
    "first_name,last_name,email,birthday,department,active\n"
    "Ada,Lovelace,ada@example.com,1815-12-10,Mathematik,yes\n"
    "Grace,Hopper,grace@example.com,1906-12-09,Navy,yes\n"
    "Alan,Turing,alan@example.com,1912-06-23,Mathematik,no\n"
    "Bob,Bad,bob@example.com,31.02.1990,Dev,yes\n"
    "Edsger,Dijkstra,edsger@example.com,1930-05-11,Algorithms,yes\n"
)
TEAM = (
    '{"id": "t1", "first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com", "department": "Army"}\n'
    '{"id": "t2", "first_name": "Old", "last_name": "Timer", "email": "old@example.com"}\n'
    '{"id": "t3", "first_name": "Alan", "last_name": "Turing", "email": "alan@example.com"}\n'
    '{"id": "t4", "first_name": "Alan", "last_name": "Turing", "email": "alan@example.com"}\n'
    '{"id": "t5", "first_name": "Edsger", "last_name": "Dijkstra", "email": "edsger@example.com",'
    ' "birthday": "1930-05-11", "department": "Algorithms", "active": true}\n'
)
EXPECTED = {"create": 1, "update": 1, "unchanged": 1, "conflict": 1, "cannot_migrate": 1, "delete": 1}


@pytest.fixture
def review(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("STAFFBRIDGE_CONFIG", raising=False)
    (tmp_path / "staff.csv").write_text(STAFF)
    (tmp_path / "team.jsonl").write_text(TEAM)
    code = main(["migrate", "staff.csv", "team.jsonl", "--delete-missing", "--report", "review.html"])
    out = capsys.readouterr().out
    assert code == 1 and "Review page written to review.html." in out  # 1: a conflict, a cannot-migrate
    assert (tmp_path / "team.jsonl").read_text() == TEAM  # a plan's page writes nothing else
    return tmp_path / "review.html"


def test_a_plan_gets_a_review_page_that_loads_nothing_from_elsewhere(review):
    html = review.read_text("utf-8")
    for action, count in EXPECTED.items():
        assert f'data-count="{action}">{count}<' in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)  # no external asset at all
    assert "default-src 'none'" in html  # and the browser is told to load none
    assert "1 person will be deleted from team.jsonl" in html
    # field by field, the reason for each cannot-migrate, each conflict's candidates
    assert "<td>department</td><td class=value>Army</td><td class=value>Navy</td>" in html
    assert "Not a valid date" in html and "jsonl#t3 Alan Turing; jsonl#t4 Alan Turing" in html


def test_report_html_of_an_applied_run_shows_each_outcome(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "staff.csv").write_text(STAFF)
    code = main(["migrate", "staff.csv", "team.jsonl", "--apply", "--report", "applied.html"])
    assert code == 1 and "Report written to applied.html." in capsys.readouterr().out
    html = (tmp_path / "applied.html").read_text("utf-8")
    assert "Applied migration" in html and 'data-count="ok">4<' in html and 'data-count="failed">1<' in html
    assert "failed: the source record could not be read" in html


def test_report_other_than_html_still_needs_apply(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "staff.csv").write_text(STAFF)
    assert main(["migrate", "staff.csv", "team.jsonl", "--report", "plan.csv"]) == 2
    assert "--apply" in capsys.readouterr().err


# ------------------------------------------------------------------ in a real browser


def browser():
    """A headless chromium driven by selenium, or a skip saying what is missing."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install '.[test]')")
    binary = next(filter(None, map(shutil.which, ("chromium", "chromium-browser", "google-chrome"))), None)
    driver_path = shutil.which("chromedriver")
    if binary is None or driver_path is None:
        pytest.skip("no headless browser: install Debian's chromium (apt-get install -y chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    profile = tempfile.mkdtemp(prefix="staffbridge-chromium-")
    for flag in (
        "--headless",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1600",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    if os.geteuid() == 0:
        options.add_argument("--no-sandbox")  # chromium refuses to run as root with its sandbox
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    return driver, profile


def test_the_page_in_a_headless_browser_counts_and_filters(review):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    driver, profile = browser()
    try:
        driver.get(review.as_uri())
        assert driver.title.startswith("Migration plan: staff.csv → team.jsonl")
        counts = {e.get_attribute("data-count"): int(e.text) for e in driver.find_elements(By.CSS_SELECTOR, ".n")}
        assert counts == EXPECTED
        assert driver.execute_script("return performance.getEntriesByType('resource').length") == 0

        def visible(table):
            rows = driver.find_elements(By.CSS_SELECTOR, f"table[data-table='{table}'] tbody tr")
            return [[cell.text for cell in row.find_elements(By.TAG_NAME, "td")] for row in rows if row.is_displayed()]

        def shown(section):
            return driver.find_element(By.CSS_SELECTOR, f"#{section} .shown").text

        assert len(visible("all")) == 6 and shown("all") == "6 of 6"
        driver.find_element(By.ID, "filter").send_keys("grace")
        assert [cells[:2] for cells in visible("all")] == [["update", "Grace Hopper"]] and shown("all") == "1 of 6"
        assert len(visible("update")) == 3  # Grace's three field changes
        assert visible("delete") == [] and shown("delete") == "0 of 1"
        driver.find_element(By.ID, "filter").clear()
        driver.execute_script("document.getElementById('filter').dispatchEvent(new Event('input'))")
        Select(driver.find_element(By.ID, "action")).select_by_value("delete")
        assert [cells[:2] for cells in visible("all")] == [["delete", "Old Timer"]]
        driver.find_element(By.CSS_SELECTOR, "button.count[data-action='delete']").click()  # a second click: all
        assert len(visible("all")) == 6
        driver.find_element(By.CSS_SELECTOR, "table[data-table='all'] th:nth-child(2) button").click()  # by name
        assert [cells[1].split()[0] for cells in visible("all")] == ["Ada", "Alan", "Bob", "Edsger", "Grace", "Old"]
        if os.environ.get("STAFFBRIDGE_SCREENSHOT"):
            driver.find_element(By.CSS_SELECTOR, "button.count[data-action='update']").click()
            driver.find_element(By.CSS_SELECTOR, "button.count[data-action='update']").click()
            driver.save_screenshot(os.environ["STAFFBRIDGE_SCREENSHOT"])
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def test_skips_with_a_message_where_no_browser_is_installed(monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(pytest.skip.Exception, match="apt-get install -y chromium"):
        browser()


def test_page_is_written_beside_nothing_else(review):
    assert sorted(p.name for p in Path(review).parent.iterdir()) == ["review.html", "staff.csv", "team.jsonl"]
