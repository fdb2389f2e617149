"""The claim ledger (notebook 11): every claim of the paper with a verdict, from the paper's own printed
tables and from this run.

Each row quotes a claim (short, with its section), says what would make it hold, and gives two
verdicts, each one of ``STATUSES``:

- from the **paper's published tables** (``paper.table``): printed numbers only, so the verdict is the
  same on every machine (tests pin them). A claim the printed numbers cannot decide at the paper's n
  says which n would decide it;
- from **this run**: in paper mode the same pair's numbers; in the demo, the zoo pair that plays the
  paper pair's part (``ANALOGUE``), with what that control means. The run's verdicts on pair effects
  use the confirmatory degradation endpoint (docs/methods.md section 1), the paper's Rel. mCE beside it.

"Not decidable" is a verdict, not a failure: the paper's n = 10-50 items cannot separate most of its
effects from noise, and the ledger says how many items would.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats as sps

from .. import paper
from ..report.section import Section
from ..stats import connor_n, min_significant_delta
from .probit import PAPER_N, paper_lines, pair_contrast

REPORT = [Section(-1.0, "The claim ledger: which of the paper's claims hold", "11_claim_ledger",
                  "One row per claim of the paper: its words, what would make it hold, the verdict from the paper's "
                  "own printed tables and from this run, and the evidence.", tables=("claims",))]

SUPPORTED, CONTRADICTED, UNDECIDABLE, UNTESTABLE = ("supported", "contradicted", "not decidable",
                                                    "not testable here")
STATUSES = (SUPPORTED, CONTRADICTED, UNDECIDABLE, UNTESTABLE)
COLUMNS = ["id", "claim", "where", "holds_if", "paper_status", "paper_evidence", "run_status", "run_evidence",
           "source"]
PSI = 0.2  # the share of discordant items assumed for "the n that would decide" [P]
ALPHA = 0.05
# In the demo, the zoo pair that plays a paper pair's part (and what that pair is there for)
ANALOGUE = {"P0": ("Z0", "negative control: alignment on clean images, nothing planted"),
            "P1": ("Z1", "the confound: a raw pretrained base against its instruction-tuned model"),
            "P2": ("Z1", "the confound: a raw pretrained base against its instruction-tuned model"),
            "P3": ("Z1", "the confound: a raw pretrained base against its instruction-tuned model")}


def n_to_decide(delta: float) -> int:
    """Items per condition for 80 % power to detect a paired difference ``delta`` with the exact
    McNemar test's normal approximation (Connor), a share ``PSI`` (at least 2 delta) of items
    discordant [P]. The smallest n at which the difference could be significant at all (every
    discordant item one way) is ``min_significant_n``."""
    delta = abs(delta)
    if delta == 0:
        return -1
    psi = max(PSI, 2 * delta) if delta < 0.5 else min(1.0, delta + 0.1)
    return int(math.ceil(connor_n(delta, psi)))


def min_significant_n(delta: float) -> int:
    """The smallest n at which a paired difference ``delta`` can reach p < 0.05 at all (exact McNemar,
    every discordant item one way: 6 items)."""
    k = math.ceil(math.log2(2 / ALPHA))
    return int(math.ceil(k / abs(delta))) if delta else -1


def _row(cid, claim, where, holds_if, paper_status, paper_evidence, source):
    return {"id": cid, "claim": claim, "where": where, "holds_if": holds_if, "paper_status": paper_status,
            "paper_evidence": paper_evidence, "source": source}


# --- verdicts from the paper's printed tables ---------------------------------------------------------

def table4_pair(pid: str) -> dict:
    """A pair's macro Rel. mCE as a claim about its direction. The printed numbers give no intervals;
    an accuracy difference between two models is at most |1 - Rel. mCE| when errors are at most 1
    [P: the bound the ratio allows], so if even that cannot be significant at the pair's stated n
    (exact McNemar, every discordant item one way), no printed number can decide the claim."""
    t4 = paper.table(4).set_index("pair")
    r = float(t4.loc[pid, "Macro"])
    n = PAPER_N[pid]
    bound = abs(1 - r)
    msd = min_significant_delta(n)
    word = "improves" if r < 1 else "hurts"
    evidence = (f"Table 4 macro {r:.3f} (mean of {', '.join(f'{t4.loc[pid, d]:.3f}' for d in paper.DATASETS)}); "
                f"the accuracy difference it allows is at most {bound:.2f}, and at n = {n} the smallest significant "
                f"paired difference is {msd:.2f}")
    if bound < msd:
        status = UNDECIDABLE
        evidence += (f": not decidable; n >= {min_significant_n(bound)} could decide it only if every discordant "
                     f"item favoured one model, n ~ {n_to_decide(bound / 2)} for 80 % power if the true difference "
                     f"were half that bound")
    else:
        status = SUPPORTED
    return _row(f"T4-{pid}", f"{paper.PAIR_LABELS[pid]} ({paper.PAIRS[pid][2]}): alignment {word} robustness, "
                             f"macro Rel. mCE {r:.2f}", "Abstract, Table 4, section 4.3",
                f"the aligned model loses {'less' if r < 1 else 'more'} accuracy to corruption than its base, "
                "with an interval that excludes no difference", status, evidence, "Table 4")


def table4_count(pid: str, claimed: int) -> dict:
    t4 = paper.table(4).set_index("pair")
    vals = [float(t4.loc[pid, d]) for d in paper.DATASETS]
    below = sum(v < 1 for v in vals)
    n = PAPER_N[pid]
    msd = min_significant_delta(n)
    decidable = [d for d, v in zip(paper.DATASETS, vals) if abs(1 - v) >= msd]
    consistent = below == claimed
    evidence = (f"Table 4: {below} of 4 datasets below 1 ({', '.join(f'{d} {v:.3f}' for d, v in zip(paper.DATASETS, vals))})"
                f"{'' if consistent else f', not {claimed}'}; at n = {n} a dataset's difference can be significant only "
                f"if it is at least {msd:.2f}, which {len(decidable)} of 4 allow")
    status = CONTRADICTED if not consistent else (UNDECIDABLE if len(decidable) < claimed else SUPPORTED)
    if status == UNDECIDABLE:
        worst = min(abs(1 - v) for v in vals if v < 1) if below else 0
        evidence += f"; n ~ {n_to_decide(worst / 2)} per dataset would decide the smallest of them"
    label = "4/4" if claimed == 4 else f"{claimed}/4"
    return _row(f"T4-{pid}-{label}", f"{paper.PAIR_LABELS[pid]}: alignment improves robustness on {label} datasets",
                "Section 4.3", f"{claimed} per-dataset effects below 1, each with an interval excluding 1",
                status, evidence, "Table 4")


def on_balance() -> dict:
    t4 = paper.table(4).set_index("pair")
    hurt = [p for p in ("P0", "P3") if float(t4.loc[p, "Macro"]) > 1]
    rows = [table4_pair(p) for p in hurt]
    status = UNDECIDABLE if all(r["paper_status"] == UNDECIDABLE for r in rows) else SUPPORTED
    return _row("T4-balance", "P0 (MPO) and P3 (RLHF): alignment increases corruption sensitivity on balance "
                              "(macro Rel. mCE above 1)", "Section 4.3",
                "the macro effects of P0 and P3 above 1 beyond their noise", status,
                "macro " + ", ".join(f"{p} {float(t4.loc[p, 'Macro']):.3f}" for p in hurt) + "; "
                + "; ".join(r["paper_evidence"].split("; ", 1)[1] for r in rows), "Table 4")


def paradigm_over_scale() -> dict:
    """C3: P2 and P3 share family and paradigm (SFT+RLHF, Gemma-3) and differ in scale only."""
    t4 = paper.table(4).set_index("pair")
    p2, p3 = float(t4.loc["P2", "Macro"]), float(t4.loc["P3", "Macro"])
    opposite = (p2 < 1) != (p3 < 1)
    return _row("C3", "Alignment paradigm predicts robustness change better than model scale", "C3, section 4.3",
                "pairs with the same paradigm agree in direction more often than pairs of the same scale",
                CONTRADICTED if opposite else UNDECIDABLE,
                f"P2 and P3 share family and paradigm (Gemma-3, SFT+RLHF) and differ in scale only, yet their macro "
                f"Rel. mCE point in opposite directions ({p2:.3f} and {p3:.3f}): within the paper's own data the "
                "paradigm does not predict the direction; the paper itself calls the P2/P3 divergence notable",
                "Table 4")


def defocus_highest() -> dict:
    t5 = paper.table(5).set_index("corruption").drop(index="mCE")
    cols = list(t5.columns)
    top = {c: t5[c][t5[c] == t5[c].max()].index.tolist() for c in cols}
    alone = [c for c in cols if top[c] == ["defocus_blur"]]
    tied = [c for c in cols if "defocus_blur" in top[c] and len(top[c]) > 1]
    status = SUPPORTED if len(alone) == len(cols) else CONTRADICTED
    others = "; ".join(f"{c}: {', '.join(top[c])}" for c in cols if "defocus_blur" not in top[c])
    return _row("S4.4-defocus", "Defocus blur consistently produces the highest CE values", "Sections 4.4 and 5",
                "defocus blur has the highest CE in every model's column of Table 5", status,
                f"Table 5 (GQA): defocus blur is the highest CE alone in {len(alone)} of {len(cols)} columns "
                f"({', '.join(alone) or 'none'}), tied in {len(tied)} ({', '.join(tied) or 'none'}); the highest "
                f"elsewhere: {others}", "Table 5")


def denominator_confound() -> dict:
    """Section 4.5: 'where base accuracy is near zero, the CE denominator becomes small'. Eq. 1's
    denominator is sum_s (1 - acc_base,s): near zero accuracy it approaches its ceiling S."""
    t2 = paper.table(2).set_index(["pair", "role"])
    low = {p: float(t2.loc[(p, "base"), "TextVQA"]) for p in ("P2", "P3")}
    return _row("S4.5-denominator", "Where base accuracy is near zero, the CE denominator becomes small and mCE "
                                    "less reliable", "Section 4.5",
                "eq. 1's denominator shrinks as the base's accuracy falls", CONTRADICTED,
                f"eq. 1's denominator is sum over severities of (1 - base accuracy): at the TextVQA clean accuracies "
                f"of {', '.join(f'{p} base {v:.2f}' for p, v in low.items())} it is near its ceiling (3 for three "
                "severities), not small; the ratio is then bounded and favours the aligned model mechanically. Only "
                "a clean-error-subtracted CE (Tables 7 and 11) has a small denominator there", "Table 2, eq. 1")


def gemma_confound() -> dict:
    t2 = paper.table(2).set_index(["pair", "role"])
    gaps = {p: float(t2.loc[(p, "aligned"), "TextVQA"] - t2.loc[(p, "base"), "TextVQA"]) for p in ("P2", "P3")}
    return _row("S4.5-gemma", "The Gemma pairs compare a raw pretrained checkpoint with an instruction-tuned one: "
                              "their Rel. mCE mixes task-following with robustness", "Section 4.5",
                "a base that does not answer in the expected format scores low whatever its perception",
                UNDECIDABLE,
                f"the paper prints no format-compliance numbers; its clean TextVQA accuracy of the pt bases "
                f"({t2.loc[('P2', 'base'), 'TextVQA']:.2f}, {t2.loc[('P3', 'base'), 'TextVQA']:.2f}) is consistent "
                f"with the confound, and the aligned-minus-base gaps ({', '.join(f'{p} {v:+.2f}' for p, v in gaps.items())}) "
                f"cannot be significant at n = 10 (smallest significant {min_significant_delta(10):.2f})", "Table 2")


def _mcnemar_p_range(delta: float, n: int) -> tuple[float, float]:
    """The one-sided exact McNemar p over every discordant split consistent with a net difference of
    ``delta`` at n items: (smallest, largest)."""
    net = round(abs(delta) * n)
    ps = []
    for b in range(0, (n - net) // 2 + 1):  # b against, c = b + net for
        c = b + net
        if b + c > n:
            break
        ps.append(float(sps.binomtest(c, b + c, 0.5, alternative="greater").pvalue) if b + c else 1.0)
    return (min(ps), max(ps)) if ps else (np.nan, np.nan)


def reversal_null_rate(n: int, reps: int = 4000, seed: int = 0) -> float:
    """How often, under the null (two exchangeable models: the same accuracy per cell, correct answers
    independent between them), one of the four pilot corruptions shows a reversal at least as large
    as the paper's (+0.3 at severity 1 and -0.2 at severity 5), at Table 6's base accuracies and n."""
    t6 = paper.table(6)
    rng = np.random.default_rng(seed)
    hits = np.zeros(reps, bool)
    for c, g in t6.groupby("corruption", sort=False):
        p1 = float(g.loc[g["severity"] == 1, "B"].iloc[0])
        p5 = float(g.loc[g["severity"] == 5, "B"].iloc[0])
        d1 = (rng.binomial(n, p1, reps) - rng.binomial(n, p1, reps)) / n
        d5 = (rng.binomial(n, p5, reps) - rng.binomial(n, p5, reps)) / n
        hits |= ((d1 >= 0.3 - 1e-9) & (d5 <= -0.2 + 1e-9)) | ((d1 <= -0.3 + 1e-9) & (d5 >= 0.2 - 1e-9))
    return float(hits.mean())


def defocus_reversal() -> dict:
    t6 = paper.table(6)
    g = t6[t6["corruption"] == "defocus_blur"].set_index("severity")
    d1, d5 = float(g.loc[1, "A"] - g.loc[1, "B"]), float(g.loc[5, "A"] - g.loc[5, "B"])
    parts, undecided = [], True
    for n in (50, 10):
        lo1, hi1 = _mcnemar_p_range(d1, n)
        lo5, hi5 = _mcnemar_p_range(d5, n)
        p_lo, p_hi = max(lo1, lo5), max(hi1, hi5)
        parts.append(f"at n = {n} the intersection-union p lies in [{p_lo:.2g}, {p_hi:.2g}] over the unknown "
                     f"discordant counts")
        if n == 50 and p_hi < ALPHA:
            undecided = False
    rate = {n: reversal_null_rate(n) for n in (10, 50)}
    evidence = (f"Table 6 (P0, GQA): {d1:+.2f} at severity 1, {d5:+.2f} at severity 5; " + "; ".join(parts)
                + f"; under the null a reversal at least this large appears in one of the four corruptions with "
                  f"probability {rate[50]:.3f} at n = 50 and {rate[10]:.3f} at n = 10; the base's defocus accuracy "
                  f"rises with severity ({g.loc[1, 'B']:.2f}, {g.loc[3, 'B']:.2f}, {g.loc[5, 'B']:.2f}), which "
                  f"perception would not do")
    if undecided:
        from ..stats import n_for_power

        cells = (float(g.loc[1, "B"]), float(g.loc[1, "A"]), float(g.loc[5, "B"]), float(g.loc[5, "A"]))
        n1, n4 = (n_for_power(cells, "iut", n_tests=k, reps=2000) for k in (1, 4))
        evidence += (f"; the intersection-union test reaches 80 % power at about {n1} items per cell if the printed "
                     f"effect is true ({n4} after correcting for the four corruptions scanned; simulated, "
                     f"notebook 04)")
    return _row("S4.6-reversal", "Defocus blur shows a severity-dependent reversal (+0.30 at severity 1, -0.20 at "
                                 "severity 5)", "Sections 4.6 and 6",
                "the aligned model is better at severity 1 and worse at severity 5, both significantly",
                UNDECIDABLE if undecided else SUPPORTED, evidence, "Table 6")


def table6_pattern(corruption: str, cid: str, claim: str, holds) -> dict:
    t6 = paper.table(6)
    g = t6[t6["corruption"] == corruption].set_index("severity")
    deltas = [round(float(g.loc[s, "A"] - g.loc[s, "B"]), 2) for s in (1, 3, 5)]
    printed = holds(deltas)
    msd = min_significant_delta(50)
    significant = [d for d in deltas if abs(d) >= msd]
    status = CONTRADICTED if not printed else (SUPPORTED if len(significant) == 3 else UNDECIDABLE)
    evidence = (f"Table 6 (P0, GQA, n = 50): aligned minus base {', '.join(f'{d:+.1f}' for d in deltas)} at severities "
                f"1, 3, 5 ({'as claimed' if printed else 'not as claimed'}); a difference below {msd:.2f} cannot be "
                f"significant at n = 50")
    if status == UNDECIDABLE:
        small = min(abs(d) for d in deltas if d) if any(deltas) else 0.1
        evidence += f"; n ~ {n_to_decide(small)} would decide a difference of {small:.1f}"
    return _row(cid, claim, "Section 4.6", "the printed pattern holds at every severity, each difference significant",
                status, evidence, "Table 6")


def noise_band() -> dict:
    from ..stats import mcnemar_exact

    p5 = mcnemar_exact(0, 5)
    p10 = mcnemar_exact(0, 10)
    return _row("S5-noise", "Differences of +-0.1 are within the noise band at these sample sizes (n = 10-50)",
                "Section 5 (Limitations)", "a paired difference of 0.1 cannot be significant at n = 10 or 50",
                SUPPORTED,
                f"a difference of 0.1 is 1 item of 10 or 5 of 50; even with every discordant item one way the exact "
                f"McNemar p is {mcnemar_exact(0, 1):.2f} (n = 10) and {p5:.4f} (n = 50), and 0.2 at n = 50 gives "
                f"{p10:.4f}: true, and understated (at n = 10 not even +-0.5 can be significant: p = "
                f"{mcnemar_exact(0, 5):.4f})", "arithmetic")


def probit_pairs() -> list[dict]:
    """Each pair's position against the probit line through the paper's base models on GQA (at the fitted
    slope and at slope 1), read against the paper's direction of the pair's effect. Without item data
    there is no interval, so none of these readings decides a claim; where it reverses the Rel. mCE
    reading the evidence says so."""
    pts, line = paper_lines()
    t4 = paper.table(4).set_index("pair")
    rows = []
    for pid in PAPER_N:
        g = pts[pts["pair"] == pid].set_index("role")
        b, a = g.loc["base"], g.loc["aligned"]
        rho_fit = pair_contrast(b.clean_acc, b.shifted_acc, a.clean_acc, a.shifted_acc, line["beta"], PAPER_N[pid])
        rho_1 = pair_contrast(b.clean_acc, b.shifted_acc, a.clean_acc, a.shifted_acc, 1.0, PAPER_N[pid])
        r = float(t4.loc[pid, "GQA"])
        claimed_better = r < 1
        agrees = (rho_fit > 0) == claimed_better and (rho_1 > 0) == claimed_better
        one_item = abs(sps.norm.ppf(min(0.99, b.clean_acc + 1 / PAPER_N[pid])) - sps.norm.ppf(max(0.01, b.clean_acc)))
        rows.append(_row(f"probit-{pid}", f"{paper.PAIR_LABELS[pid]} on GQA: the aligned model is "
                                          f"{'more' if claimed_better else 'less'} robust than its base "
                                          f"(Rel. mCE {r:.3f}), read on the probit line", "Table 4 (GQA), section 4.3",
                         "the aligned model sits above (more robust) or below (less robust) the line its base's "
                         "clean accuracy predicts, at the fitted slope and at slope 1",
                         UNDECIDABLE,
                         f"pair contrast {rho_fit:+.2f} probit units at the fitted slope {line['beta']:.2f} "
                         f"(line through the 4 base models, R^2 {line['r2']:.2f}) and {rho_1:+.2f} at slope 1: "
                         f"{'the same direction as' if agrees else 'the REVERSE of'} the Rel. mCE reading; not "
                         f"decidable: no item data, so no interval, and at n = {PAPER_N[pid]} one item moves the "
                         f"base's clean point by {one_item:.2f} probit units", "Tables 2, 5, 6"))
    return rows


def paper_rows() -> list[dict]:
    """Every claim with its verdict from the printed tables (the same on every machine)."""
    rows = [table4_pair(p) for p in ("P0", "P1", "P2", "P3")]
    rows += [table4_count("P1", 4), table4_count("P2", 3), on_balance(), paradigm_over_scale(), defocus_highest(),
             denominator_confound(), gemma_confound(), defocus_reversal(),
             table6_pattern("brightness", "S4.6-brightness", "Brightness shows a monotone advantage for the aligned "
                            "model at all severity levels", lambda d: all(x > 0 for x in d)),
             table6_pattern("gaussian_noise", "S4.6-noise", "Gaussian noise shows a consistent but diminishing "
                            "advantage for the aligned model, vanishing at severity 5",
                            lambda d: d[0] > 0 and d[0] >= d[1] >= d[2] and d[2] == 0),
             noise_band(),
             _row("C2", "The prompt-level fix eliminates the verbosity-scoring mismatch", "C2, section 3",
                  "the aligned model's format loss (lenient minus strict score) under the fixed prompt is equivalent "
                  "to 0 (two one-sided tests, margin 0.02)", UNTESTABLE,
                  "the paper prints no strict-against-lenient numbers, so its claim cannot be checked from its tables; "
                  "this run tests it (notebook 05)", "-")]
    rows += probit_pairs()
    return rows


# --- verdicts from this run ---------------------------------------------------------------------------

RUN_TABLES = ("ethics_endpoint", "relative_mce_bootstrap", "table4_relative_mce", "table5_ce_per_corruption",
              "denominator_sensitivity", "severity_reversals", "table6_severity", "verbosity_ab",
              "probit_pair_contrast", "format_compliance")


def _run_pair(pid: str, params: dict) -> tuple[str | None, str]:
    """The run's pair for a paper pair: the same id in paper mode, else the demo's analogue (and its role)."""
    from ..design import enabled_pairs

    pairs = enabled_pairs(params)
    if pid in pairs:
        return pid, "the paper's pair"
    zoo_pair, role = ANALOGUE.get(pid, (None, ""))
    if zoo_pair in pairs:
        return zoo_pair, f"demo analogue {zoo_pair}, the {role}"
    return None, ""


def _direction_status(lo: float, hi: float, claimed_positive: bool) -> str:
    """A claim of a positive (or negative) effect against an interval."""
    if not (np.isfinite(lo) and np.isfinite(hi)):
        return UNTESTABLE
    if lo > 0:
        return SUPPORTED if claimed_positive else CONTRADICTED
    if hi < 0:
        return CONTRADICTED if claimed_positive else SUPPORTED
    return UNDECIDABLE


def _n_for_interval(est: float, lo: float, hi: float, n: int) -> str:
    """The n at which an interval of this width (shrinking as 1/sqrt(n)) would exclude 0, if the estimate held."""
    half = (hi - lo) / 2
    if not est or not np.isfinite(half) or half <= 0:
        return "no n (the estimate is 0)"
    return f"n ~ {int(math.ceil(n * (half / abs(est)) ** 2))} items per dataset if the estimate held"


def _endpoint(tables: dict, run_pair: str, dataset: str = "pooled"):
    ep = tables.get("ethics_endpoint")
    if ep is None or ep.empty:
        return None
    r = ep[(ep["pair"] == run_pair) & (ep["dataset"] == dataset)]
    return r.iloc[0] if len(r) else None


def run_table4(row: dict, pid: str, tables: dict, params: dict) -> tuple[str, str]:
    rp, what = _run_pair(pid, params)
    if rp is None:
        return UNTESTABLE, f"the run has neither {pid} nor a demo analogue"
    e = _endpoint(tables, rp)
    if e is None:
        return UNTESTABLE, "the run wrote no degradation endpoint (notebook 07)"
    claimed_positive = "improves" in row["claim"]
    status = _direction_status(e["ci_lo"], e["ci_hi"], claimed_positive)
    rel = tables.get("table4_relative_mce")
    macro = ""
    if rel is not None:
        m = rel[(rel["pair"] == rp) & (rel["dataset"] == "macro")]
        if len(m):
            macro = f"; Rel. mCE macro {float(m['rel_mce_ratio'].iloc[0]):.3f} (descriptive)"
    ev = (f"{what}: degradation endpoint pooled {e['estimate']:+.3f} [{e['ci_lo']:+.3f}, {e['ci_hi']:+.3f}] "
          f"(> 0: the aligned model loses less; {int(e['n_items'])} items){macro}")
    if status == UNDECIDABLE:
        ev += f"; {_n_for_interval(e['estimate'], e['ci_lo'], e['ci_hi'], int(e['n_items']) // 4 or 1)}"
    return status, ev


def run_table4_count(row: dict, pid: str, claimed: int, tables: dict, params: dict) -> tuple[str, str]:
    rp, what = _run_pair(pid, params)
    ep = tables.get("ethics_endpoint")
    if rp is None or ep is None:
        return UNTESTABLE, "no pair or no endpoint in the run"
    per = ep[(ep["pair"] == rp) & (ep["dataset"] != "pooled")]
    above = per[per["ci_lo"] > 0]
    below = per[per["ci_hi"] < 0]
    status = SUPPORTED if len(above) >= claimed else (CONTRADICTED if len(below) > len(per) - claimed else UNDECIDABLE)
    return status, (f"{what}: the endpoint's interval is above 0 on {len(above)} of {len(per)} datasets, below 0 on "
                    f"{len(below)} (Holm-adjusted p: {', '.join(f'{d} {p:.3f}' for d, p in zip(per['dataset'], per['p_holm']))})")


def run_c2(tables: dict) -> tuple[str, str]:
    ab = tables.get("verbosity_ab")
    if ab is None or ab.empty or "fl_equivalent_a" not in ab:
        return UNTESTABLE, "the run has no verbosity A/B (no plain prompt variant)"
    clean = ab[ab["image"] == "clean"]
    eq = clean["fl_equivalent_a"].astype(str).eq("True")
    status = SUPPORTED if eq.all() else (CONTRADICTED if (clean["fl_tost_lo_a"] > clean["tost_margin"]).any()
                                         else UNDECIDABLE)
    cells = "; ".join(f"{r.pair} {r.dataset}: {r.fl_concise_a:+.3f}, 90 % CI [{r.fl_tost_lo_a:+.3f}, {r.fl_tost_hi_a:+.3f}]"
                      for r in clean.itertuples())
    return status, (f"the aligned models' format loss under the fixed prompt, clean items, TOST with margin "
                    f"{float(clean['tost_margin'].iloc[0]):.2f}: equivalent to 0 in {int(eq.sum())} of {len(clean)} "
                    f"(pair, dataset) cells ({cells})")


def run_defocus(tables: dict) -> tuple[str, str]:
    t5 = tables.get("table5_ce_per_corruption")
    if t5 is None or "defocus_blur" not in set(t5["corruption"]):
        return UNTESTABLE, "the run evaluates no defocus blur"
    t = t5.set_index("corruption").drop(index="mCE", errors="ignore")
    cols = [c for c in t.columns if c.endswith("_A") or c.endswith("_B")]
    varying = [c for c in cols if t[c].nunique() > 1]  # the reference's own column is 1 everywhere
    alone = [c for c in varying if t[c].idxmax() == "defocus_blur" and (t[c] == t[c].max()).sum() == 1]
    status = SUPPORTED if len(alone) == len(varying) else CONTRADICTED
    return status, (f"the run's GQA-like table: defocus blur has the highest CE alone in {len(alone)} of {len(varying)} "
                    f"columns ({', '.join(alone) or 'none'})")


def run_reversal(tables: dict, params: dict) -> tuple[str, str]:
    rev = tables.get("severity_reversals")
    rp, what = _run_pair("P0", params)
    if rev is None or rp is None:
        return UNTESTABLE, "no severity scan in the run"
    r = rev[(rev["pair"] == rp) & (rev["corruption"] == "defocus_blur")]
    if r.empty:
        return UNTESTABLE, "the run evaluates no defocus blur"
    confirmed = r["confirmed_reversal"].astype(str).eq("True")
    lines = "; ".join(f"{x.dataset}: {x.delta_low:+.2f} / {x.delta_high:+.2f}, IUT p {x.p_iut:.3f}, BH q {x.q_iut:.3f}"
                      for x in r.itertuples())
    return (SUPPORTED if confirmed.any() else UNDECIDABLE,
            f"{what}: aligned minus base at the lowest / highest severity per dataset: {lines}")


def run_confound(tables: dict, params: dict) -> tuple[str, str]:
    den = tables.get("denominator_sensitivity")
    if den is None or den.empty:
        return UNTESTABLE, "no denominator table"
    low = den[den["clean_acc_b"] <= 0.1]
    if low.empty:
        return UNTESTABLE, "no base model of the run is near zero accuracy"
    return CONTRADICTED, (f"{len(low)} (pair, dataset, corruption) cells with a base at or below 0.10 clean accuracy: "
                          f"eq. 1's denominator there is {low['E_b'].min():.2f}-{low['E_b'].max():.2f} of its ceiling "
                          f"{int(low['S'].iloc[0])}, not small")


def run_gemma(tables: dict, params: dict) -> tuple[str, str]:
    comp = tables.get("format_compliance")
    rp, what = _run_pair("P2", params)
    if comp is None or rp is None:
        return UNTESTABLE, "no compliance table or pair"
    from ..design import enabled_pairs

    q = enabled_pairs(params)[rp]
    clean = comp[(comp["corruption"] == "none") & (comp["prompt_variant"] == "concise")]
    rates = clean.groupby("model")["comp_text"].mean()
    b, a = rates.get(q["base"], np.nan), rates.get(q["aligned"], np.nan)
    status = SUPPORTED if b < 0.5 <= a else UNDECIDABLE
    return status, (f"{what}: answers in the expected format on clean items, mean over datasets: base {b:.2f}, "
                    f"aligned {a:.2f}")


def run_probit(row: dict, pid: str, tables: dict, params: dict) -> tuple[str, str]:
    pc = tables.get("probit_pair_contrast")
    rp, what = _run_pair(pid, params)
    if pc is None or rp is None:
        return UNTESTABLE, "no probit table or pair"
    r = pc[(pc["pair"] == rp) & (pc["shift"] == "all corruptions")]
    if r.empty:
        return UNTESTABLE, "no 'all corruptions' line in the run"
    parts = "; ".join(f"{x.dataset}: {x.rho_fitted_beta:+.2f} (slope 1 {x.rho_beta1:+.2f} [{x.rho_beta1_lo:+.2f}, "
                      f"{x.rho_beta1_hi:+.2f}])" for x in r.itertuples())
    above = int((r["rho_beta1_lo"] > 0).sum())
    below = int((r["rho_beta1_hi"] < 0).sum())
    more = "is more robust" in row["claim"]
    status = UNDECIDABLE if above == below == 0 else (SUPPORTED if (above > below) == more else CONTRADICTED)
    return status, (f"{what}: pair contrast in probit units per dataset at the fitted slope (slope 1 with its "
                    f"interval): {parts}; intervals above 0 on {above}, below 0 on {below}")


def ledger(tables: dict, params: dict) -> pd.DataFrame:
    """The claim ledger: the paper's rows (``paper_rows``) with this run's verdict and evidence."""
    rows = []
    for row in paper_rows():
        cid = row["id"]
        if cid.startswith("T4-P") and cid.count("-") == 1:
            status, ev = run_table4(row, cid[3:], tables, params)
        elif cid == "T4-P1-4/4":
            status, ev = run_table4_count(row, "P1", 4, tables, params)
        elif cid == "T4-P2-3/4":
            status, ev = run_table4_count(row, "P2", 3, tables, params)
        elif cid == "T4-balance":
            st = [run_table4({"claim": "hurts"}, p, tables, params) for p in ("P0", "P3")]
            status = st[0][0] if st[0][0] == st[1][0] else UNDECIDABLE
            ev = " | ".join(e for _, e in st)
        elif cid == "C2":
            status, ev = run_c2(tables)
        elif cid == "C3":
            status, ev = UNTESTABLE, ("needs two pairs of one paradigm at two scales; the demo's zoo has one scale, "
                                      "and the paper's P3 names no released checkpoint")
        elif cid == "S4.4-defocus":
            status, ev = run_defocus(tables)
        elif cid == "S4.5-denominator":
            status, ev = run_confound(tables, params)
        elif cid == "S4.5-gemma":
            status, ev = run_gemma(tables, params)
        elif cid == "S4.6-reversal":
            status, ev = run_reversal(tables, params)
        elif cid == "S5-noise":
            status, ev = SUPPORTED, "arithmetic, the same at any run (notebook 07's power table)"
        elif cid.startswith("probit-"):
            status, ev = run_probit(row, cid.split("-")[1], tables, params)
        else:  # Table 6's printed patterns: the run's own Table 6 has other pairs and n
            status, ev = UNTESTABLE, "a pattern of the paper's printed Table 6; the run's Table 6 is in notebook 04"
        rows.append({**row, "run_status": status, "run_evidence": ev})
    out = pd.DataFrame(rows, columns=COLUMNS)
    bad = set(out["paper_status"]) | set(out["run_status"])
    assert bad <= set(STATUSES), bad - set(STATUSES)
    return out


def load_tables(run: str) -> dict:
    """The run's tables the ledger reads (absent ones are left out: their rows say so)."""
    from .. import paths

    d = paths.tables_dir(run)
    return {name: pd.read_csv(d / f"{name}.csv") for name in RUN_TABLES if (d / f"{name}.csv").exists()}
