"""The claim ledger: the verdicts from the paper's printed tables are pinned (they depend on printed
numbers only), every row has a status from the four and evidence, and the decision rules by hand."""

import pandas as pd
import pytest

from vlmrobust import params
from vlmrobust.analyses import claims, ledger

# id -> the verdict the paper's own printed tables give (the same on every machine)
PINNED = {
    "T4-P0": "not decidable", "T4-P1": "not decidable", "T4-P2": "not decidable", "T4-P3": "not decidable",
    "T4-P1-4/4": "not decidable", "T4-P2-3/4": "not decidable", "T4-balance": "not decidable",
    "C3": "contradicted", "S4.4-defocus": "contradicted", "S4.5-denominator": "contradicted",
    "S4.5-gemma": "not decidable", "S4.6-reversal": "not decidable", "S4.6-brightness": "not decidable",
    "S4.6-noise": "not decidable", "S5-noise": "supported", "C2": "not testable here",
    "probit-P0": "not decidable", "probit-P1": "not decidable", "probit-P2": "not decidable",
    "probit-P3": "not decidable",
}


@pytest.fixture(scope="module")
def paper_rows():
    return {r["id"]: r for r in claims.paper_rows()}


def test_the_paper_side_verdicts_are_pinned(paper_rows):
    assert {k: r["paper_status"] for k, r in paper_rows.items()} == PINNED
    assert len(paper_rows) >= 14 and all(r["paper_evidence"] for r in paper_rows.values())


def test_defocus_is_the_highest_ce_in_one_column_of_table5(paper_rows):
    assert "highest CE alone in 1 of 8 columns (P0_A), tied in 1 (P0_B)" in paper_rows["S4.4-defocus"]["paper_evidence"]


def test_p3_reads_the_other_way_on_the_probit_line(paper_rows):
    ev = paper_rows["probit-P3"]["paper_evidence"]
    assert "+0.51 at the unweighted slope" in ev and "+0.25 [" in ev and "REVERSE" in ev


def test_the_reversal_p_range_straddles_alpha_at_n50_and_cannot_reach_it_at_n10():
    lo, hi = claims._mcnemar_p_range(0.3, 50)  # +0.30 at severity 1: 15 net items
    assert lo == pytest.approx(0.5 ** 15) and hi < 0.05  # significant whatever the split
    lo5, hi5 = claims._mcnemar_p_range(-0.2, 50)  # -0.20 at severity 5: 10 net items
    assert lo5 == pytest.approx(0.5 ** 10) and hi5 > 0.05  # the split decides: not decidable
    lo10, _ = claims._mcnemar_p_range(0.3, 10)
    assert lo10 == pytest.approx(0.125)  # 3 of 3 one way: 0.5^3, never significant at n = 10


def test_decision_rules_by_hand():
    assert claims.min_significant_n(0.1) == 60  # 6 items one way (2 x 0.5^6 < 0.05) of 60 = 0.1
    assert ledger._direction_status(0.01, 0.2, True) == "supported"
    assert ledger._direction_status(-0.2, -0.01, True) == "contradicted"
    assert ledger._direction_status(-0.1, 0.2, True) == "not decidable"
    # an interval of half-width 0.1 around 0.05 at n = 100 excludes 0 at n = 100 x (0.1 / 0.05)^2 = 400
    assert ledger._n_for_interval(0.05, -0.05, 0.15, 100).startswith("n ~ 400")


def test_the_demo_ledger_answers_every_row_with_a_status_and_evidence():
    p = params.load("params/demo.yaml")
    ep = pd.DataFrame([{"pair": "Z0", "dataset": "pooled", "estimate": 0.01, "ci_lo": -0.02, "ci_hi": 0.04,
                        "n_items": 400, "p_holm": float("nan")},
                       {"pair": "Z1", "dataset": "pooled", "estimate": 0.05, "ci_lo": 0.02, "ci_hi": 0.08,
                        "n_items": 400, "p_holm": float("nan")}])
    out = ledger.ledger({"ethics_endpoint": ep}, p)
    assert set(out["paper_status"]) | set(out["run_status"]) <= set(claims.STATUSES)
    assert out["run_evidence"].str.len().gt(0).all() and len(out) >= 14
    row = out.set_index("id").loc["T4-P1"]  # P1 "improves"; its demo analogue Z1's interval is above 0
    assert row["run_status"] == "supported" and "demo analogue Z1" in row["run_evidence"]
    assert out.set_index("id").loc["T4-P0", "run_status"] == "not decidable"  # Z0: the negative control
