"""The transcribed tables (shape, spot cells) and the audit's verdicts."""

import pytest

from vlmrobust import paper


def test_every_listed_table_loads_with_its_caption():
    idx = paper.table_index()
    assert list(idx["table"]) == [2, 3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert idx["caption"].str.len().min() > 20
    for n in idx["table"]:
        assert len(paper.raw_table(n)) > 0


@pytest.mark.parametrize("n, shape", [(2, (12, 7)), (3, (8, 6)), (4, (4, 7)), (5, (5, 9)), (6, (12, 4)),
                                      (7, (4, 4)), (8, (8, 5)), (9, (8, 5)), (10, (8, 7)), (11, (12, 13))])
def test_table_shapes(n, shape):
    assert paper.raw_table(n).shape == shape


def test_spot_cells():
    t3 = paper.table(3).set_index("model")
    assert t3.loc["QW-base", "MMBench"] == pytest.approx(2.427)
    assert paper.table(4).set_index("pair").loc["P1", "GQA"] == pytest.approx(0.539)
    assert paper.raw_table(4).set_index("pair").loc["P0", "GQA"] == "0.83"  # printed precision kept
    t6 = paper.table(6)
    assert t6[(t6["corruption"] == "defocus_blur") & (t6["severity"] == 5)]["A"].iloc[0] == pytest.approx(0.3)
    t11 = paper.raw_table(11).set_index("corruption")
    assert t11.loc["zoom_blur", "GQA_Rel"] == ""  # printed as a dash
    assert paper.table(10).set_index("model").loc["QW-base", "Macro_mCR"] == pytest.approx(-0.779)


def test_printed_intervals():
    p = paper.Printed("0.83")
    assert (p.decimals, p.lo, p.hi) == (2, pytest.approx(0.825), pytest.approx(0.835))
    assert paper.Printed("+0.50").value == 0.5


@pytest.fixture(scope="module")
def audit():
    return paper.audit()


def test_audit_recomputations_equal_the_paper_where_it_is_consistent(audit):
    derived = audit[~audit["status"].isin(["note", "inconsistent"])]
    assert len(derived) > 230
    assert (derived["status"] != "mismatch").all(), derived[derived["status"] == "mismatch"]


def test_table4_is_the_ratio_of_table3_mces(audit):
    t4 = audit[audit["check"].str.startswith("Table 4 = mCE")]
    assert len(t4) == 16 and t4["status"].isin(["exact", "within rounding"]).all()
    p1 = audit[(audit["check"] == "Table 4 Macro = mean of its per-dataset values") & (audit["cell"] == "P1 Macro")]
    assert "0.608" in p1["note"].iloc[0]  # the ratio of macros would not reproduce 0.640


def test_table5_p0_reproduced_from_table6_through_eq1(audit):
    rows = audit[audit["check"].str.startswith("Table 5 P0 = eq. 1")]
    assert len(rows) == 4 and (rows["status"] == "exact").all()
    assert rows.set_index("cell").loc["P0_A brightness", "computed"] == pytest.approx(0.6)


def test_audit_flags_the_known_problems(audit):
    incons = audit[audit["status"] == "inconsistent"]
    assert set(incons[incons["table"] == 7]["cell"]) == set(paper.DATASETS)
    assert {"Gemma-3-7B", "Gemma-3-7B-IT"} <= set(incons["cell"])
    assert (audit["check"] == "Table 6 granularity vs n = 50").any()
