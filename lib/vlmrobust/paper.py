"""The seed paper's published numbers (Tables 2-11) and an audit of their consistency.

The tables are transcribed into ``paper_data/*.csv`` (``tables.csv`` lists number,
file and caption). Values are read as text so that each cell keeps its printed
precision: a printed ``0.83`` stands for any value in [0.825, 0.835].

``audit()`` recomputes every derived number from the primary ones and classifies
each comparison:

- ``exact``: the recomputed value, rounded as printed, equals the printed value;
- ``within rounding``: not exact, but an exact input consistent with the printed
  (rounded) inputs could produce the printed output (interval arithmetic);
- ``mismatch``: no such input exists;
- ``inconsistent``: a structural contradiction (e.g. a model's CE against itself
  printed as != 1);
- ``note``: a fact worth knowing that is neither a match nor a mismatch.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import numpy as np
import pandas as pd

from .data import PAPER_NAMES

DATASETS = list(PAPER_NAMES.values())  # the paper's display names, in the order of its tables
PAIRS = {  # pair -> (base label, aligned label, method)
    "P0": ("IVL-SFT", "IVL-MPO", "MPO"),
    "P1": ("QW-base", "QW-inst", "instruction tuning"),
    "P2": ("G4B-pt", "G4B-it", "SFT+RLHF"),
    "P3": ("G7B-pt", "G7B-it", "SFT+RLHF"),
}
PAIR_LABELS = {"P0": "InternVL2.5-2B", "P1": "Qwen2-VL-2B", "P2": "Gemma-3-4B", "P3": "Gemma-3-7B"}
REFERENCE = "IVL-SFT"

# What the paper's model names resolve to (checked against model cards and the
# transformers test-suite; see params/paper.yaml and README.md).
CHECKPOINTS = pd.DataFrame([
    ("IVL-SFT", "InternVL2.5-2B", "OpenGVLab/InternVL2_5-2B", "exists (remote-code repo; no official HF-native -hf conversion)"),
    ("IVL-MPO", "InternVL2.5-2B-MPO", "OpenGVLab/InternVL2_5-2B-MPO(-hf)", "exists (official -hf conversion)"),
    ("QW-base", "Qwen2-VL-2B", "Qwen/Qwen2-VL-2B", "exists"),
    ("QW-inst", "Qwen2-VL-2B-Instruct", "Qwen/Qwen2-VL-2B-Instruct", "exists"),
    ("G4B-pt", "Gemma-3-4B-PT", "google/gemma-3-4b-pt", "exists"),
    ("G4B-it", "Gemma-3-4B-IT", "google/gemma-3-4b-it", "exists"),
    ("G7B-pt", "Gemma-3-7B", None, "does not exist: Gemma 3 sizes are 270M, 1B, 4B, 12B, 27B"),
    ("G7B-it", "Gemma-3-7B-IT", None, "does not exist: Gemma 3 sizes are 270M, 1B, 4B, 12B, 27B"),
], columns=["label", "paper_name", "hub_id", "status"])


def _files() -> pd.DataFrame:
    with resources.files("vlmrobust.paper_data").joinpath("tables.csv").open() as fh:
        return pd.read_csv(fh)


def table_index() -> pd.DataFrame:
    """Table number, file and caption of every transcribed table."""
    return _files()


def raw_table(number: int) -> pd.DataFrame:
    """A published table as printed (strings, so the precision is kept)."""
    idx = _files().set_index("table")
    if number not in idx.index:
        raise KeyError(f"table {number} is not transcribed; available: {list(idx.index)}")
    with resources.files("vlmrobust.paper_data").joinpath(idx.loc[number, "file"]).open() as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def table(number: int) -> pd.DataFrame:
    """A published table with numeric cells as floats (empty cells NaN)."""
    t = raw_table(number)
    for c in t.columns:
        conv = pd.to_numeric(t[c].str.replace("+", "", regex=False).replace("", np.nan), errors="coerce")
        if conv.notna().sum() == (t[c] != "").sum() and (t[c] != "").any():
            t[c] = conv
    return t


# --- printed numbers as intervals --------------------------------------------------

@dataclass(frozen=True)
class Printed:
    """A printed decimal: its value and the interval of exact values it may stand for."""

    text: str

    @property
    def value(self) -> float:
        return float(self.text.replace("+", ""))

    @property
    def decimals(self) -> int:
        t = self.text.replace("+", "").replace("-", "")
        return len(t.split(".")[1]) if "." in t else 0

    @property
    def half(self) -> float:
        return 0.5 * 10 ** (-self.decimals)

    @property
    def lo(self) -> float:
        return self.value - self.half

    @property
    def hi(self) -> float:
        return self.value + self.half


def _classify(printed: Printed, exact: float, lo: float, hi: float) -> str:
    if round(exact, printed.decimals) == round(printed.value, printed.decimals):
        return "exact"
    if lo - 1e-12 <= printed.hi and hi + 1e-12 >= printed.lo:
        return "within rounding"
    return "mismatch"


def _ratio(a: Printed, b: Printed):
    exact = a.value / b.value
    cands = [x / y for x in (a.lo, a.hi) for y in (b.lo, b.hi)]
    return exact, min(cands), max(cands)


def _mean(xs: list[Printed]):
    return float(np.mean([x.value for x in xs])), float(np.mean([x.lo for x in xs])), float(np.mean([x.hi for x in xs]))


def _rec(check, table_, cell, printed, computed, lo, hi, note="") -> dict:
    p = printed if isinstance(printed, Printed) else Printed(str(printed))
    return {"check": check, "table": table_, "cell": cell, "printed": p.text, "computed": round(computed, 4),
            "status": _classify(p, computed, lo, hi), "note": note}


def _cell(t: pd.DataFrame, key_col: str, key: str, col: str) -> Printed:
    return Printed(t.loc[t[key_col] == key, col].iloc[0])


# --- the audit ------------------------------------------------------------------------

def audit() -> pd.DataFrame:
    """Every consistency check of the published tables (one row per compared cell)."""
    out: list[dict] = []
    t2, t3, t4, t5, t6 = (raw_table(i) for i in (2, 3, 4, 5, 6))
    t7, t8, t9, t10, t11 = (raw_table(i) for i in (7, 8, 9, 10, 11))

    # Table 4 = ratio of Table 3's global-reference mCEs (not eq. 1 with the base as reference)
    for pair, (b, a, _) in PAIRS.items():
        per = []
        for d in DATASETS:
            ex, lo, hi = _ratio(_cell(t3, "model", a, d), _cell(t3, "model", b, d))
            out.append(_rec("Table 4 = mCE(aligned|IVL-SFT) / mCE(base|IVL-SFT) from Table 3", 4,
                            f"{pair} {d}", _cell(t4, "pair", pair, d), ex, lo, hi))
            per.append(_cell(t4, "pair", pair, d))
        ex, lo, hi = _mean(per)
        alt = _cell(t3, "model", a, "Macro").value / _cell(t3, "model", b, "Macro").value
        out.append(_rec("Table 4 Macro = mean of its per-dataset values", 4, f"{pair} Macro",
                        _cell(t4, "pair", pair, "Macro"), ex, lo, hi,
                        note=f"ratio of Table 3 macros would give {alt:.3f}"))

    # Table 3: macro = mean over datasets; Tables 9 and 10 repeat it; mCR = 1 - mCE
    for m in t3["model"]:
        ex, lo, hi = _mean([_cell(t3, "model", m, d) for d in DATASETS])
        out.append(_rec("Table 3 Macro-mCE = mean over the four datasets", 3, f"{m} Macro",
                        _cell(t3, "model", m, "Macro"), ex, lo, hi))
        for d in DATASETS:
            for tn, tt in ((9, t9), (10, t10)):
                p = _cell(tt, "model", m, d)
                q = _cell(t3, "model", m, d)
                out.append(_rec(f"Table {tn} repeats Table 3", tn, f"{m} {d}", p, q.value, q.lo, q.hi))
        mce = _cell(t10, "model", m, "Macro_mCE")
        out.append(_rec("Table 10 Macro-mCR = 1 - Macro-mCE", 10, f"{m} Macro-mCR",
                        _cell(t10, "model", m, "Macro_mCR"), 1 - mce.value, 1 - mce.hi, 1 - mce.lo))

    # Table 2: delta rows and the appendix repeat (Table 8)
    for pair, (b, a, _) in PAIRS.items():
        for d in DATASETS:
            pb, pa = _cell(t2, "model", b, d), _cell(t2, "model", a, d)
            delta = Printed(t2[(t2["pair"] == pair) & (t2["role"] == "delta")][d].iloc[0])
            out.append(_rec("Table 2 delta = aligned - base", 2, f"{pair} {d}", delta,
                            pa.value - pb.value, pa.lo - pb.hi, pa.hi - pb.lo))
            for lab, p in ((b, pb), (a, pa)):
                q = _cell(t8, "model", lab, d)
                out.append(_rec("Table 8 repeats Table 2", 8, f"{lab} {d}", q, p.value, p.lo, p.hi))

    # Table 5: mCE row = mean of corruptions; = Table 3's GQA column
    cols5 = {f"{p}_{r}": (PAIRS[p][0] if r == "B" else PAIRS[p][1]) for p in PAIRS for r in ("B", "A")}
    corr5 = [c for c in t5["corruption"] if c != "mCE"]
    for col, label in cols5.items():
        ex, lo, hi = _mean([_cell(t5, "corruption", c, col) for c in corr5])
        out.append(_rec("Table 5 mCE row = mean of its four CEs", 5, f"{col} ({label})",
                        _cell(t5, "corruption", "mCE", col), ex, lo, hi))
        q = _cell(t3, "model", label, "GQA")
        out.append(_rec("Table 5 mCE row = Table 3 GQA column", 5, f"{col} ({label})",
                        _cell(t5, "corruption", "mCE", col), q.value, q.lo, q.hi))

    # Table 5's P0 column from Table 6's accuracies through eq. 1 (IVL-SFT is both base and reference)
    for c in corr5:
        rows = t6[t6["corruption"] == c]
        eb = [1 - Printed(v).value for v in rows["B"]]
        ea = [1 - Printed(v).value for v in rows["A"]]
        h = Printed(rows["B"].iloc[0]).half
        ex = sum(ea) / sum(eb)
        lo = (sum(ea) - 3 * h) / (sum(eb) + 3 * h)
        hi = (sum(ea) + 3 * h) / (sum(eb) - 3 * h)
        out.append(_rec("Table 5 P0 = eq. 1 on Table 6 accuracies (sev 1, 3, 5)", 5, f"P0_A {c}",
                        _cell(t5, "corruption", c, "P0_A"), ex, lo, hi))
    vals6 = np.array([Printed(v).value for v in pd.concat([t6["B"], t6["A"]])])
    on_tenth = bool(np.allclose(np.round(vals6 * 10), vals6 * 10))
    t2_gqa = [_cell(t2, "model", m, "GQA").value for m in ("IVL-SFT", "IVL-MPO")]
    out.append({"check": "Table 6 granularity vs n = 50", "table": 6, "cell": "all", "printed": "",
                "computed": np.nan, "status": "note" if on_tenth else "exact",
                "note": (f"all 24 accuracies are multiples of 0.1 (n = 10 items?), while P0 used n = 50 "
                         f"(multiples of 0.02; Table 2's P0 GQA accuracies {t2_gqa} are)") if on_tenth else ""})

    # Tables 7 and 11 (Qwen2-VL extension)
    corr11 = [c for c in t11["corruption"] if c != "mCE"]
    for d in DATASETS:
        b7, a7 = _cell(t7, "dataset", d, "mce_base"), _cell(t7, "dataset", d, "mce_aligned")
        ex, lo, hi = _ratio(a7, b7)
        out.append(_rec("Table 7 Rel. mCE = mCE(aligned) / mCE(base)", 7, d,
                        _cell(t7, "dataset", d, "rel_mce"), ex, lo, hi))
        for col, col7 in ((f"{d}_CE_b", b7), (f"{d}_CE_a", a7)):
            ex, lo, hi = _mean([_cell(t11, "corruption", c, col) for c in corr11])
            out.append(_rec("Table 11 mCE row = mean of its 11 CEs", 11, col,
                            _cell(t11, "corruption", "mCE", col), ex, lo, hi))
            out.append(_rec("Table 11 mCE row = Table 7", 11, col, _cell(t11, "corruption", "mCE", col),
                            col7.value, col7.lo, col7.hi))
        cb, ca = _cell(t11, "corruption", "mCE", f"{d}_CE_b"), _cell(t11, "corruption", "mCE", f"{d}_CE_a")
        ex, lo, hi = _ratio(ca, cb)
        out.append(_rec("Table 11 mCE-row Rel = mCE_a / mCE_b", 11, f"{d} mCE",
                        _cell(t11, "corruption", "mCE", f"{d}_Rel"), ex, lo, hi))
        for c in corr11:
            rel = t11.loc[t11["corruption"] == c, f"{d}_Rel"].iloc[0]
            cb, ca = _cell(t11, "corruption", c, f"{d}_CE_b"), _cell(t11, "corruption", c, f"{d}_CE_a")
            if rel == "":
                out.append({"check": "Table 11 Rel = CE_a / CE_b", "table": 11, "cell": f"{d} {c}",
                            "printed": "—", "computed": np.nan, "status": "note",
                            "note": f"CE_b printed as {cb.text}: the ratio is undefined"})
                continue
            ex, lo, hi = _ratio(ca, cb)
            out.append(_rec("Table 11 Rel = CE_a / CE_b", 11, f"{d} {c}", Printed(rel), ex, lo, hi))
        out.append({"check": "Tables 7/11 against eq. 1 with QW-base as reference", "table": 7, "cell": d,
                    "printed": b7.text, "computed": 1.0, "status": "inconsistent",
                    "note": "with QW-base as the reference, eq. 1 gives CE(QW-base | QW-base) = 1 for every "
                            "corruption; the printed base CEs are not 1, so these CEs use another, "
                            "unstated normaliser"})

    # claims in the text
    for claim, printed, ex, lo, hi in [
        ("abstract: Qwen2-VL Rel. mCE 0.64", "0.64", *(_mean([_cell(t4, "pair", "P1", d) for d in DATASETS]))),
        ("abstract: Gemma-3-4B 0.90", "0.90", *(_mean([_cell(t4, "pair", "P2", d) for d in DATASETS]))),
        ("abstract: Gemma-3-7B 1.19", "1.19", *(_mean([_cell(t4, "pair", "P3", d) for d in DATASETS]))),
        ("abstract: InternVL2.5 1.10", "1.10", *(_mean([_cell(t4, "pair", "P0", d) for d in DATASETS]))),
    ]:
        out.append(_rec("text vs tables", 4, claim, Printed(printed), ex, lo, hi))
    qi, qb = _cell(t3, "model", "QW-inst", "Macro"), _cell(t3, "model", "QW-base", "Macro")
    out.append(_rec("text vs tables", 3, "Sec. 4.2: QW reversal of 0.697 mCE points", Printed("0.697"),
                    qb.value - qi.value, qb.lo - qi.hi, qb.hi - qi.lo))

    # the model list against checkpoints that exist
    for r in CHECKPOINTS.itertuples():
        ok = isinstance(r.hub_id, str)
        out.append({"check": "model list vs released checkpoints", "table": 1, "cell": r.paper_name,
                    "printed": r.label, "computed": np.nan, "status": "note" if ok else "inconsistent",
                    "note": f"{r.hub_id if ok else 'no hub id'}: {r.status}"})
    return pd.DataFrame(out)


def audit_summary(a: pd.DataFrame) -> pd.DataFrame:
    """Counts of each status per check."""
    return (a.groupby(["check", "status"]).size().unstack(fill_value=0)
            .reindex(columns=["exact", "within rounding", "mismatch", "inconsistent", "note"], fill_value=0))


# --- tidy frames for the figures -----------------------------------------------------

def _pairs_long(t: pd.DataFrame, value: str) -> pd.DataFrame:
    rows = []
    for pair, (b, a, method) in PAIRS.items():
        for role, lab in (("base", b), ("aligned", a)):
            for d in DATASETS:
                rows.append({"pair": pair, "pair_label": PAIR_LABELS[pair], "method": method, "role": role,
                             "model": lab, "dataset": d, value: float(t.loc[t["model"] == lab, d].iloc[0])})
    return pd.DataFrame(rows)


def clean_accuracy_long() -> pd.DataFrame:
    """Table 2 as tidy rows (pair, role, dataset, acc) for Figure 2."""
    return _pairs_long(table(2), "acc")


def mce_long() -> pd.DataFrame:
    """Table 3 as tidy rows (pair, role, dataset, mce) for Figures 3 and 4."""
    return _pairs_long(table(3), "mce")


def rel_mce_long() -> pd.DataFrame:
    """Table 4 as tidy rows (pair, dataset, rel_mce) for Figure 6."""
    t = table(4)
    return pd.DataFrame([{"pair": p, "pair_label": PAIR_LABELS[p], "dataset": d,
                          "rel_mce": float(t.loc[t["pair"] == p, d].iloc[0])}
                         for p in PAIRS for d in DATASETS])
