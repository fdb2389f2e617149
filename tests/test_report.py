"""The run report's registry and HTML pieces (the browser test of the built page is in the smoke run)."""

import pandas as pd

from vlmrobust import report
from vlmrobust.report import html


def test_sections_are_collected_from_the_analyses_in_the_papers_order():
    s = report.all_sections()
    assert [x.order for x in s] == sorted(x.order for x in s)
    titles = [x.title for x in s]
    assert any(t.startswith("Table 4") for t in titles) and any(t.startswith("Table 6") for t in titles)
    assert any(t.startswith("Section 5") for t in titles)  # registered by analyses.ethics, not by the report
    t4 = next(x for x in s if x.title.startswith("Table 4"))
    assert t4.paper_tables == (4,) and "table4_relative_mce" in t4.tables


def test_html_table_has_its_caption_and_truncates():
    out = html.table(pd.DataFrame({"a": range(100), "b": 0.5}), "My <caption>")
    assert out.count("<caption>My &lt;caption&gt;</caption>") == 1 and "40 more rows" in out
    assert "0.500" in out


def test_page_is_self_contained():
    page = html.page("t", "<p>x</p>")
    assert "<style>" in page and "http" not in page and "<script" not in page


def test_report_shows_an_empty_table_instead_of_failing(tmp_path, monkeypatch):
    from vlmrobust.report.build import _run_side
    from vlmrobust.analyses.section import Section

    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "empty.csv").write_text("\n")
    out = _run_side(Section(1, "x", "00_x", tables=("empty", "absent")), tmp_path / "t", tmp_path / "f")
    assert "empty (no rows)" in out and "not produced by this run" in out
