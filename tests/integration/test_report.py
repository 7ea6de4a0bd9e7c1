"""The HTML report of the tiny experiment: strict parse, sections, counts, self-containment,
failures shown as failed, and Snakemake's own --report."""

import re

import html5lib
import pandas as pd
import pytest

from conftest import run_snakemake

pytestmark = pytest.mark.slow

SECTIONS = (
    "header",
    "verdict",
    "leaderboards",
    "fits",
    "recovery",
    "calibration",
    "cost",
    "diagnostics",
    "sweeps",
    "provenance",
)


@pytest.fixture(scope="module")
def page(tiny_run):
    text = (tiny_run / "report.html").read_text()
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    return text, parser.parse(text)


@pytest.fixture(scope="module")
def table(tiny_run):
    return pd.read_csv(tiny_run / "fits.csv")


def test_every_section_is_there(page):
    _, tree = page
    ids = {element.get("id") for element in tree.iter() if element.get("id")}
    assert set(SECTIONS) <= ids


def test_the_report_opens_with_a_verdict_per_problem_linked_to_its_evidence(page, table):
    text, tree = page
    main = tree.find(".//main")
    first = [s.get("id") for s in main.findall("./section")][0]
    assert first == "verdict"  # the answer before compute times and failures
    verdicts = tree.findall(".//div[@class='verdict']")
    assert len(verdicts) == len(table.groupby(["problem", "problem_settings"]))
    board_ids = {e.get("id") for e in tree.iter() if (e.get("id") or "").startswith("board-")}
    for verdict in verdicts:
        link = verdict.find("./h3/a").get("href")
        assert link[1:] in board_ids  # each verdict links to its leaderboard
    # The deliberately starved nlls fails every fit: it is to be avoided, never trusted.
    peak = [v for v in verdicts if "gaussian_peak" in v.find("./h3/a").text]
    assert peak and all("Avoid nlls_starved" in "".join(v.itertext()) for v in peak)
    assert all("Trust nlls_starved" not in "".join(v.itertext()) for v in verdicts)


def test_a_leaderboard_per_problem_setting_with_a_row_per_method(page, table):
    _, tree = page
    boards = tree.findall(".//table[@class='leaderboard sortable-table']")
    cases = table.groupby(["problem", "problem_settings"])
    assert len(boards) == len(cases)
    for board in boards:
        label = board.get("data-case")
        problem, _, psid = label.partition(" [")
        psid = psid.rstrip("]") or "default"
        expected = table[(table.problem == problem) & (table.problem_settings == psid)]
        methods = expected[["method", "method_settings"]].drop_duplicates()
        assert len(board.findall("./tbody/tr")) == len(methods), label


def test_figures_are_inline_and_counted(page, table):
    _, tree = page
    images = tree.findall(".//img")
    assert images and all(img.get("src").startswith("data:image/png;base64,") for img in images)
    # One fits figure per problem setting with 1-D observations (not the black-box forrester).
    with_data = table[table.problem != "forrester"].groupby(["problem", "problem_settings"]).ngroups
    assert len(_figures(tree, "fits-figure")) == with_data
    # Parametric problems (cosine_series, two gaussian_peak settings) get a forest and a pull plot.
    assert len(_figures(tree, "forest-figure")) == 3
    assert len(_figures(tree, "pulls-figure")) == 3
    assert len(_figures(tree, "calibration-figure")) == 1
    assert len(_figures(tree, "cost-figure")) == 1
    assert len(tree.findall(".//figure[@class='sweep-figure']")) == 1  # gaussian_peak sweeps noise
    method_sections = tree.findall(".//details[@class='diagnostics method']")
    assert {d.get("id") for d in method_sections} == {f"diag-{m}" for m in table.method.unique()}


def _figures(tree, kind):
    """The ``<figure>`` elements of class ``kind`` (among others)."""
    return [f for f in tree.iter("figure") if kind in (f.get("class") or "").split()]


def _spec(figure):
    """The Plotly figure an interactive ``<figure>`` carries, as JSON."""
    import json

    return json.loads(figure.find("script").text)


def test_the_interactive_figures_carry_every_fit_by_its_id(page, table):
    """The fits overlays, the calibration and the cost of every fit are interactive, with the
    static image kept as the fallback; every parametric case gets an interactive pull per
    fit; the cost explorer names each ok fit (of MAX_POINTS per problem) by its folder."""
    _, tree = page
    with_data = table[table.problem != "forrester"].groupby(["problem", "problem_settings"]).ngroups
    fits = [f for f in _figures(tree, "fits-figure") if "explorer" in f.get("class")]
    assert len(fits) == with_data and all(f.find("img") is not None for f in fits)
    assert all(_spec(f)["data"] and _spec(f)["layout"]["updatemenus"] for f in fits)
    assert len(_figures(tree, "recovery-explorer")) == 3
    assert "explorer" in _figures(tree, "calibration-figure")[0].get("class")
    (cost,) = _figures(tree, "cost-explorer")
    named = {fit for trace in _spec(cost)["data"] for fit in trace.get("customdata", [])}
    assert named == set(table[table.status == "ok"].fit_dir.str.removeprefix("fits/"))
    # plotly.js, once, compressed; no external script
    bundles = tree.findall(".//script[@id='plotly-gz']")
    assert len(bundles) == 1 and len(bundles[0].text) > 1_000_000


def test_no_external_resource_is_referenced(page):
    text, tree = page
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", text)
    assert tree.find(".//link") is None
    assert all(script.get("src") is None for script in tree.findall(".//script"))
    for anchor in tree.findall(".//a"):
        href = anchor.get("href")
        assert href.startswith("#") or href.startswith("fits/"), href


def test_failed_fits_appear_as_failed_with_their_logs(page, table, tiny_run):
    _, tree = page
    failed = table[table.status != "ok"]
    assert len(failed) == 6 and set(failed.method) == {"nlls_starved"}
    rows = tree.findall(".//table[@class='failures']/tbody/tr")
    # Replicates failing for the same reason share a row that lists them.
    groups = failed.groupby(["problem", "problem_settings", "method", "method_settings", "message"])
    assert len(rows) == groups.ngroups < len(failed)
    listed = {row.findall("td")[3].text.strip() for row in rows}
    header = "".join(tree.find(".//header").itertext())
    assert re.search(rf"failed\s*{len(failed)}\b", header), header  # fits counted, not rows
    assert listed == {"0–2"}  # each noise setting's three starved replicates, one reason each
    for row in rows:
        reason, log = row.findall("td")[4:6]
        assert "did not converge" in reason.text
        target = log.find("a").get("href")
        assert (tiny_run / target).is_file() and "did not converge" in (tiny_run / target).read_text()
    # In the leaderboard the starved method's row counts its failures, with no metrics.
    board = next(
        b
        for b in tree.findall(".//table[@class='leaderboard sortable-table']")
        if b.get("data-case") == "gaussian_peak [noise-0.05]"
    )
    starved = next(r for r in board.findall("./tbody/tr") if r.find("td").get("data-value") == "nlls_starved")
    cells = starved.findall("td")
    assert cells[3].text.strip() == "3" and all(c.text.strip() == "–" for c in cells[4:])


def test_calibration_table_has_a_row_per_method_with_intervals(page, table):
    _, tree = page
    rows = tree.findall(".//table[@class='calibration sortable-table']/tbody/tr")
    ok = table[table.status == "ok"]
    with_coverage = ok[ok.coverage68.notna() | ok.band_coverage68.notna()]
    assert len(rows) == with_coverage.groupby(["problem", "problem_settings", "method", "method_settings"]).ngroups


def test_provenance_lists_versions_commands_and_every_artefact(page, tiny_run):
    text, tree = page
    assert "fitflow report results/tiny" in text and "--configfile" in text
    manifest = tree.findall(".//table[@class='manifest']/tbody/tr")
    files = [
        p
        for p in tiny_run.rglob("*")
        if p.is_file()
        and not p.relative_to(tiny_run).as_posix().startswith(("logs/", "figures/"))
        and p.name != "report.html"
    ]
    assert len(manifest) == len(files)


def test_snakemake_report_collects_the_marked_outputs(tiny_run, tmp_path):
    archive = tmp_path / "snakemake-report.zip"
    run_snakemake(tiny_run.parents[1], "--report", str(archive))
    import zipfile

    names = zipfile.ZipFile(archive).namelist()
    assert any(n.endswith("report.html") for n in names)
    assert any(n.endswith("calibration.png") for n in names) and any(n.endswith("fits.csv") for n in names)


def test_a_figure_that_raises_costs_only_itself(tiny_run, monkeypatch):
    """Every figure is drawn alone: one that raises leaves a note naming the reason in its
    place, the traceback on stderr (the report job's log), and every other part written."""
    from fitflow.report import figures, render_report

    def broken(*args, **kwargs):
        raise RuntimeError("a figure that cannot be drawn")

    monkeypatch.setattr(figures, "forest_figure", broken)
    html = render_report(tiny_run)
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)
    notes = re.findall(r'<figure class="forest-figure not-drawn"><p class="failed">([^<]*)</p>', html)
    assert notes and all("RuntimeError: a figure that cannot be drawn" in n for n in notes)
    assert '<img alt="fits on ' in html and '<img alt="pulls on ' in html
    assert '<img alt="calibration" ' in html and 'id="provenance"' in html


def test_a_section_that_raises_costs_only_itself(tiny_run, monkeypatch):
    import fitflow.report as report
    from fitflow.report import diagnostics

    def broken(experiment):
        raise KeyError("diagnostics of a plugin gone odd")

    monkeypatch.setattr(diagnostics, "diagnostics_by_method", broken)
    html = report.render_report(tiny_run)
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(html)
    assert "Some parts of this report could not be built" in html
    assert "diagnostics: KeyError" in html
    assert 'id="leaderboards"' in html and '<img alt="fits on ' in html
