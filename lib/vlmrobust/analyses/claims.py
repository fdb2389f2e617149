"""The paper's claims and their verdicts from its own printed tables (the claim ledger's first half;
``ledger`` adds this run's verdicts).

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
from scipy import stats as sps

from .. import paper
from ..stats import connor_n, min_significant_delta
from .probit import PAPER_N, paper_lines

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
    """Each pair's position against the probit line through the paper's base models on GQA, read against
    the direction of the pair's Rel. mCE on GQA: the contrast at the weighted fit's slope (with its
    parametric-bootstrap interval), at the unweighted slope and at slope 1 (``probit.paper_lines``)."""
    pts, line = paper_lines()
    t4 = paper.table(4).set_index("pair")
    rows = []
    for pid in PAPER_N:
        g = pts[pts["pair"] == pid].set_index("role")
        a = g.loc["aligned"]
        r = float(t4.loc[pid, "GQA"])
        claimed_better = r < 1
        rho_w, lo, hi = a["rho_fitted_beta"], a["rho_fitted_lo"], a["rho_fitted_hi"]
        agrees = (rho_w > 0) == claimed_better and (a["rho_beta1"] > 0) == claimed_better
        status = (SUPPORTED if (lo > 0) == claimed_better and (lo > 0 or hi < 0) else
                  CONTRADICTED if (lo > 0 or hi < 0) else UNDECIDABLE)
        rows.append(_row(
            f"probit-{pid}", f"{paper.PAIR_LABELS[pid]} on GQA: the aligned model is {'more' if claimed_better else 'less'}"
                             f" robust than its base (Rel. mCE {r:.3f}), read on the probit line",
            "Table 4 (GQA), section 4.3",
            "the aligned model sits above (more robust) or below (less robust) the line its base's clean accuracy "
            "predicts, with an interval that excludes 0",
            status,
            f"pair contrast {rho_w:+.2f} probit units [{lo:+.2f}, {hi:+.2f}] at the weighted line's slope "
            f"{line['beta']:.2f} (inverse-variance weights: P0's n = 50 against 10), {a['rho_ols_beta']:+.2f} at the "
            f"unweighted slope {line['beta_ols']:.2f}, {a['rho_beta1']:+.2f} [{a['rho_beta1_lo']:+.2f}, "
            f"{a['rho_beta1_hi']:+.2f}] at slope 1: {'the same direction as' if agrees else 'the REVERSE of'} the "
            f"Rel. mCE reading"
            + ("; the aligned model's clean accuracy lies outside the base models' range "
               f"{line['base_clean_range'][0]:.2f}-{line['base_clean_range'][1]:.2f}: the line is extrapolated"
               if bool(a["extrapolated"]) else "")
            + "; intervals from a parametric bootstrap at the stated n (no item data)", "Tables 2, 5, 6"))
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
