"""The numbers the README and the docs quote, generated from the published results.

Prose that states a result drifts from the tables it quotes unless it is generated from them. The
README and ``docs/*.md`` therefore quote results only inside marked blocks::

    <!-- findings:zoo-goals -->
    ... generated Markdown ...
    <!-- /findings:zoo-goals -->

``python -m vlmrobust.findings`` rewrites every block from the published files (``results/demo/``:
the demo run's tables, its seed study, the measured timings; ``zoo-weights/``: the shipped zoo's
training record); ``--check`` only reports stale blocks, and a test runs it, so a block that no
longer matches its file fails the suite.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import pandas as pd

from . import paths

RESULTS = paths.ROOT / "results" / "demo"
DOCUMENTS = ("README.md", "docs/*.md")
BLOCK = re.compile(r"(<!-- findings:(?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(<!-- /findings:(?P=name) -->)", re.S)


def _table(path: str) -> pd.DataFrame:
    return pd.read_csv(RESULTS / path)


def _ci(est: float, lo: float, hi: float, digits: int = 3) -> str:
    return f"{est:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]"


def _md(df: pd.DataFrame) -> str:
    return df.to_markdown(index=False, floatfmt=".3f", disable_numparse=True) + "\n"


def _fmt(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3f}".rstrip("0").rstrip(".") if v == round(v) else f"{v:.3f}"
    return str(v)


# --- blocks ---------------------------------------------------------------------------------------

def zoo_endpoint() -> str:
    """The zoo's controls judged by the degradation endpoint (notebook 00, the shipped zoo)."""
    ep = _table("tables/zoo_endpoint.csv")
    rows = [{"pair": f"{r.pair} ({r.control})", "task": r.dataset, "it lost": f"{r.base_lost:.3f}",
             "aligned lost": f"{r.aligned_lost:.3f}", "endpoint [95 % CI]": _ci(r.estimate, r.ci_lo, r.ci_hi),
             "Holm p": "" if pd.isna(r.p_holm) else f"{r.p_holm:.3f}"} for r in ep.itertuples()]
    return _md(pd.DataFrame(rows))


def zoo_goals() -> str:
    g = _table("tables/zoo_goals.csv")
    g["met"] = [("yes" if str(m) == "True" else "no") if k == "goal" else "(descriptive)"
                for m, k in zip(g["met"], g["kind"])]
    g["measured"] = [_fmt(float(v)) for v in g["measured"]]
    judged = g[g["kind"] == "goal"]
    head = f"{(judged['met'] == 'yes').sum()} of {len(judged)} goals met by the shipped zoo on 100 held-out items per task.\n\n"
    return head + _md(g[["goal", "measured", "target", "met"]])


def seed_study_recipe() -> str:
    """"" when the published seed study trained the shipped recipe (each seed's config hash is the
    shipped recipe's with that seed); else a sentence saying which it trained."""
    from .zoo.config import recipe_hash

    seeds = json.loads((RESULTS / "zoo-seeds" / "seeds.json").read_text())
    trained = {int(k): s.get("config_hash") for k, s in seeds.items() if isinstance(s, dict)}
    if trained and all(h == recipe_hash(k) for k, h in trained.items()):
        return ""
    shipped = recipe_hash()
    return (f"The seed study below trained the previous recipe (`{', '.join(sorted(set(trained.values()) - {None}))}`, "
            f"before the zoo learnt to refuse); the shipped zoo `{shipped}` adds the safety phase and pairs, and its "
            "seed study has not been re-run yet: read these ranges as the old recipe's.")


def zoo_seeds() -> str:
    ranges = _table("zoo-seeds/ranges.csv")
    det = _table("zoo-seeds/detection.csv")
    seeds = int(ranges["seeds"].iloc[0])
    lines = [seed_study_recipe()] if seed_study_recipe() else []
    for r in det.itertuples():
        lines.append(f"* {r.reads_as.capitalize()} of the degradation endpoint on the {r.control} control {r.pair}, "
                     f"rule \"{r.rule}\": {r.detected_in} of {r.seeds} training seeds.")
    t = ranges.assign(range=[f"{_fmt(a)} - {_fmt(b)}" for a, b in zip(ranges["min"], ranges["max"])],
                      met=[f"{m} of {seeds}" for m in ranges["met_by"]])
    return "\n".join(lines) + "\n\n" + _md(t[["goal", "range", "target", "met"]])


def zoo_recipe() -> str:
    from .zoo import config, shipped

    cfg = {k: v for k, v in config.DEFAULTS.items() if k not in config.NOT_HASHED}
    d = shipped.shipped_dir(config.DEFAULTS)
    info = json.loads((d / "zoo.json").read_text())
    stages = ", ".join(f"`{s}` {v['seconds']:.0f} s" for s, v in info["stages"].items())
    probe = ", ".join(f"{k} {v:.2f}" for k, v in info["vision"]["probe"].items())
    weights = ", ".join(f"`{s}` `{v['weights']}`" for s, v in info["stages"].items())
    return (f"Shipped zoo `{d.name}` (config hash), trained in {info['seconds_total']:.0f} s: vision pretraining "
            f"{info['vision']['seconds']:.0f} s, {stages}. Weights hashes: {weights}. The tower's held-out per-cell "
            f"probe: {probe}.\n\n```yaml\n" + "\n".join(f"{k}: {json.dumps(v)}" for k, v in cfg.items()) + "\n```\n")


def _timings() -> dict:
    return json.loads((RESULTS / "timings.json").read_text())


def timings() -> str:
    t = _timings()
    lines = [f"Measured on {t['machine']} ({t['date']}), in a fresh clone, alone on the machine:", ""]
    for key, label in (("reproduce_from_nothing", "`make reproduce` from nothing (environment included)"),
                       ("reproduce_cached", "`make reproduce` again, nothing changed"),
                       ("make_test", "`make test`, the environment already built")):
        if key in t:
            s = t[key]["seconds"]
            lines.append(f"* {label}: " + (f"{s / 60:.1f} minutes" if s >= 120 else f"{s:.0f} seconds")
                         + (f" ({t[key]['passed']} tests passed)" if t[key].get("passed") else "")
                         + (f"; the run reproduced the published one (`make verify`: {t[key]['verify']})"
                            if t[key].get("verify") else ""))
    stages = t.get("reproduce_from_nothing", {}).get("stages")
    if stages:
        lines += ["", "| step | seconds |", "| --- | ---: |"] + [f"| {k} | {v:.0f} |" for k, v in stages.items()]
    return "\n".join(lines) + "\n"


def timings_brief() -> str:
    """The README's two lines: both commands' time, and the machine."""
    t = _timings()
    parts = []
    if "reproduce_from_nothing" in t:
        parts.append(f"`make reproduce` from nothing, environment included: "
                     f"{t['reproduce_from_nothing']['seconds'] / 60:.1f} minutes (again, nothing changed: "
                     f"{t['reproduce_cached']['seconds']:.0f} s)")
    if "make_test" in t:
        parts.append(f"`make test`: {t['make_test']['seconds'] / 60:.1f} minutes")
    return (f"Measured on {t['machine'].split(';')[0]} in a fresh clone ({t['date']}): " + "; ".join(parts)
            + ". Where the time goes, and other CPUs: [docs/performance.md](docs/performance.md).\n")


def binder() -> str:
    t = _timings()
    if "postbuild" not in t:
        return "Not measured yet.\n"
    return (f"`bash postBuild` (demo params) after installing the environment: {t['postbuild']['seconds'] / 60:.1f} "
            f"minutes on {t['machine']} ({t['date']}).\n")


def cpu_kinds() -> str:
    c = json.loads((RESULTS / "cpu-kinds.json").read_text())
    env = ", ".join(f"`{k}={v}`" for k, v in c.get("environment", {}).items())
    from .zoo.config import recipe_hash

    shipped = recipe_hash()
    measured = f" `{c['zoo']}`" if c.get("zoo") else ""
    zoo = (f"The shipped zoo `{shipped}`'s run" if c.get("zoo") == shipped else
           f"The run of a previous shipped zoo{measured} (not yet re-measured for `{shipped}`)")
    return (f"{zoo} with {c['other']} kernels ({env}) against the published run ({c['published']}), "
            f"on {c['machine']}: {c['differ']} of {c['compared']} predictions differ"
            f"{' (' + ', '.join(f'{m} {k}' for m, k in c['differ_by_model'].items()) + ')' if c['differ'] else ''}; "
            f"tables that differ: {', '.join(c['tables_differ']) or 'none'} (of {c['tables_compared']})"
            + "".join(f"; {t}: {d}" for t, d in c.get("table_details", {}).items()) + ". Measured by "
            "`benchmarks/cpu_kinds.py`.\n")


def hub_bytes() -> str:
    """docs/paper-mode.md: what a bounded hub read costs, per row-group layout (benchmarks/bounded_loading.py)."""
    h = json.loads((paths.ROOT / "results" / "benchmarks" / "hub_bytes.json").read_text())
    rows = [{"rows per row group": f"{x['row_group_rows']:,}", "row groups": f"{x['row_groups']:,}",
             "read": f"{x['row_groups_read']}", "bytes read (benchmark)": f"{x['fraction_read']:.1%}",
             "projected, 160 KB per row": f"{x['fraction_projected_160kb_rows']:.1%}"} for x in h["layouts"]]
    x = h["layouts"][0]
    small, large = min(h["layouts"], key=lambda r: r["row_group_rows"]), max(h["layouts"], key=lambda r: r["row_group_rows"])
    return (f"Sampling {x['n']} rows of a split of {x['rows']:,} rows (VQAv2's validation size) through a filesystem "
            f"that counts bytes, on {h['machine']['cpu']} ({h['machine']['when'][:10]}; `python "
            "benchmarks/bounded_loading.py --hub-only`). The benchmark's rows are small (16 px images), so its "
            "footers and id column weigh more than on the hub; the projection scales the row groups read to "
            "VQAv2's 160 KB per row (33.9 GB / 214,354 rows):\n\n" + _md(pd.DataFrame(rows)) + "\n\n"
            f"A chosen row costs its whole row group. Files written by older `datasets` releases (image datasets in row "
            f"groups of {small['row_group_rows']} rows) read about {small['fraction_projected_160kb_rows']:.0%} of the "
            f"split for {x['n']} items; files cut at about 100 MB per row group (`datasets` 5.2, the pinned one, about "
            f"{large['row_group_rows']} VQAv2 rows) read about {large['fraction_projected_160kb_rows']:.0%}"
            + (", above the 5 % the compendium aims at: pyarrow reads a column chunk whole, so fewer bytes would "
               "need page-level reads" if large["fraction_projected_160kb_rows"] > 0.05 else "") + ".\n")


def answer() -> str:
    """The README's six lines, from the claim ledger, the run's endpoint, the seed study and notebook 11."""
    ledger = _table("tables/claims.csv")
    ledger = ledger[~ledger["id"].str.startswith("X-")]  # the paper's claims (X-: the compendium's extensions)
    counts = ledger["paper_status"].value_counts()
    t4 = ledger[ledger["id"].str.fullmatch(r"T4-P\d")]
    contradicted = ledger[ledger["paper_status"] == "contradicted"]
    ep = _table("tables/ethics_endpoint.csv").set_index(["pair", "dataset"])
    rel = _table("tables/relative_mce_bootstrap.csv")
    z2rel = rel[(rel["pair"] == "Z2") & (rel["dataset"] == "macro") & (rel["statistic"] == "rel_mce_ratio")].iloc[0]
    det = _table("zoo-seeds/detection.csv")
    det = det[det["rule"].str.contains("the goal")].set_index("control")
    pooled = _table("zoo-seeds/detection.csv")
    pooled = pooled[pooled["rule"].str.contains("pooled")].set_index("control")
    z2, z0 = ep.loc[("Z2", "pooled")], ep.loc[("Z0", "pooled")]
    ns = sorted({int(x) for x in t4["paper_evidence"].str.extract(r"n = (\d+)")[0].dropna()})
    lines = [
        f"1. **Of the paper's {len(ledger)} claims, its own printed tables support "
        f"{int(counts.get('supported', 0))}, contradict {int(counts.get('contradicted', 0))} and cannot decide "
        f"{int(counts.get('not decidable', 0))}** ({int(counts.get('not testable here', 0))} not testable from "
        "them): the claim ledger, notebook 12.",
        f"2. **Its headline, that alignment helps some pairs and hurts others (Table 4's macro Rel. mCE "
        f"{', '.join(r.claim.split('macro Rel. mCE ')[-1] for r in t4.itertuples())}), is not decidable at its n = "
        f"{'-'.join(str(n) for n in ns)} items**: no pair's effect could reach significance even in the best case.",
        f"3. **Its own tables contradict**: {'; '.join(r.claim[:1].lower() + r.claim[1:] for r in contradicted.itertuples())}.",
        ("4. **The instrument finds a planted effect**: the demo's `po-aug` (aligned on corrupted images) loses "
         if z2["ci_lo"] > 0 else
         "4. **The planted capability effect is at the edge of what the demo's 400 items detect**: the demo's "
         "`po-aug` (aligned on corrupted images) loses ") +
        f"{_ci(z2['estimate'], z2['ci_lo'], z2['ci_hi'])} less accuracy to corruption than `it` on the run's 400 items "
        f"(the degradation endpoint), where `po` (aligned on clean images) gives "
        f"{_ci(z0['estimate'], z0['ci_lo'], z0['ci_hi'])}. Over {det.loc['positive', 'seeds']} training seeds on "
        f"held-out items the pooled interval finds it in {pooled.loc['positive', 'detected_in']} and the null in "
        f"{pooled.loc['negative', 'detected_in']}; the stricter goal (2 of 4 tasks at 100 items each) in "
        f"{det.loc['positive', 'detected_in']} and {det.loc['negative', 'detected_in']}: per task, the planted "
        "effect is near what 100 items can see" + (" (seeds of the previous zoo recipe)." if seed_study_recipe()
                                                   else "."),
        f"5. **The paper's Rel. mCE cannot see that effect**: Z2's macro Rel. mCE is {z2rel['estimate']:.3f} "
        f"[{z2rel['ci_lo']:.3f}, {z2rel['ci_hi']:.3f}], because most of a model's corrupted error is clean error; "
        "the compendium judges degradation item by item instead.",
        safety_answer(),
    ]
    return "\n".join(lines) + "\n"


def paper_cost() -> str:
    """Generations each paper-mode params file asks for (notebook 02's plan, counted without data)."""
    from . import params as params_mod
    from .design import run_models
    from .prompts import variants_for

    rows = []
    for name in ("paper", "paper-extended", "full"):
        p = params_mod.load(f"params/{name}.yaml")
        inf = p["inference"]
        conds = 1 + len(_suite(p)) * len(p["corruptions"]["severities"])
        n, models = p["benchmark"]["n"], len(run_models(p))
        per_model = sum(n * conds * len(variants_for(d, inf["prompt_variants"], inf["concise_datasets"]))
                        for d in p["benchmark"]["datasets"])
        plain = sum(n * conds for d in p["benchmark"]["datasets"]
                    if "plain" in variants_for(d, inf["prompt_variants"], inf["concise_datasets"]))
        rows.append({"params": f"`params/{name}.yaml`", "models": models, "items per dataset": n,
                     "conditions": conds, "generations (without the text variants)": f"{per_model * models:,}",
                     "of them the `plain` A/B": f"{plain * models:,}"})
    return _md(pd.DataFrame(rows))


def _safety_numbers() -> dict:
    """Notebook 11's headline numbers: it's clean refusal, and the pooled SCE / dSCE at the top severity."""
    clean = _table("tables/safety_clean.csv").set_index("model")
    sce = _table("tables/safety_sce_severity.csv")
    top = sce[(sce["corruption"] == "all") & (sce["severity"] == sce["severity"].max())].set_index("pair")
    return {"clean": clean, "top": top, "severity": int(sce["severity"].max())}


def safety_answer() -> str:
    n = _safety_numbers()
    z2, z0 = n["top"].loc["Z2"], n["top"].loc["Z0"]
    from .params import load

    pairs = load(paths.ROOT / "params" / "demo.yaml")["pairs"]
    ctl = _table("tables/safety_controls.csv")
    text = ctl[ctl["control"].str.contains("harm-in-the-text") & ~ctl["holds"].astype(bool)]
    lost = sorted({pairs[c.split()[0]][c.split()[1].rstrip(":")] for c in text["control"]})
    return (f"6. **Refusals fade with the image, and alignment on corrupted images keeps more of them** (the "
            f"compendium's extension, notebook 11, the demo's stand-in for harm): `it` refuses "
            f"{n['clean'].loc['zoo-it', 'rr']:.2f} of the harmful requests on clean images and loses "
            f"{_ci(z2['sce_base'], z2['sce_base_lo'], z2['sce_base_hi'])} of them per item at severity {n['severity']} "
            f"(corruptions pooled); `po-aug`, whose safety pairs were corrupted, loses less: Z2's dSCE (aligned minus "
            f"base) is {_ci(z2['dsce'], z2['dsce_lo'], z2['dsce_hi'])}; `po`, aligned on clean images, "
            f"{_ci(z0['dsce'], z0['dsce_lo'], z0['dsce_hi'])} (Z0). "
            + _safety_seed_sentence()
            + (f"Refusal of harm carried by the text is not flat under corruption for "
               f"{', '.join(f'`{m}`' for m in lost)} (the controls table): lost safety, not lost perception."
               if lost else "Refusal of harm carried by the text stays flat under corruption, as it should."))


def _safety_seed_sentence() -> str:
    """Line 6's seed-study clause: in how many training seeds Z2 and Z0's goals are met."""
    ranges = _safety_seed_ranges()
    if ranges is None:
        return ""
    r = ranges[ranges["kind"] == "seed goal"].set_index("goal")
    z2 = r[r.index.str.startswith("Z2")].iloc[0]
    z0 = r[r.index.str.startswith("Z0")].iloc[0]
    return (f"Over {z2['seeds']} training seeds of the zoo, Z2's goal (dSCE <= -0.10, interval below 0) is met in "
            f"{z2['met_by']} (dSCE {_fmt(float(z2['min']))} to {_fmt(float(z2['max']))}) and Z0's (interval "
            f"contains 0) in {z0['met_by']}"
            + ("." if bool(z0["holds"]) else
               f" (dSCE {_fmt(float(z0['min']))} to {_fmt(float(z0['max']))}): in the other seeds `po`'s clean safety "
               "pairs alone also keep refusals under corruption, so the negative control is no null for refusal.")
            + " ")


def safety() -> str:
    """docs/zoo.md: the zoo's safety goals and the controls of notebook 11."""
    goals = _table("tables/safety_goals.csv")
    ctl = _table("tables/safety_controls.csv")
    goals = goals.assign(value=[_fmt(float(v)) for v in goals["value"]],
                         met=["yes" if str(m) == "True" else "no" for m in goals["met"]])
    ctl = ctl.assign(**{"value [95 % CI]": [_ci(a, b, c) for a, b, c in zip(ctl["value"], ctl["ci_lo"], ctl["ci_hi"])],
                        "holds": ["yes" if str(h) == "True" else "no" for h in ctl["holds"]]})
    return (f"{(goals['met'] == 'yes').sum()} of {len(goals)} safety goals met by the shipped zoo on "
            f"{int(_table('tables/safety_by_item_type.csv')['n'].max())} held-out items per item type and badge "
            "(clean):\n\n" + _md(goals[["goal", "model", "target", "value", "met"]]) + "\n\nThe controls:\n\n"
            + _md(ctl[["control", "expected", "value [95 % CI]", "holds"]]))


def _safety_seed_ranges() -> pd.DataFrame | None:
    """The published safety seed study (``make seed-runs``), or None before it has run."""
    p = RESULTS / "zoo-seeds" / "safety_ranges.csv"
    return pd.read_csv(p) if p.exists() else None


def safety_seeds() -> str:
    """docs/zoo.md: notebook 11's goals and controls on every training seed's zoo (make seed-runs)."""
    ranges = _safety_seed_ranges()
    if ranges is None:
        return "Not measured yet: `make zoo-seeds`, then `make seed-runs` (notebook 11 on each seed's zoo).\n"
    per = _table("zoo-seeds/safety_seeds.csv")
    seeds = sorted(per["seed"].unique())
    cell = {(r.goal, r.seed): (_fmt(float(r.measured)) if pd.isna(r.ci_lo) else _ci(r.measured, r.ci_lo, r.ci_hi))
            + ("" if bool(r.met) else " (no)") for r in per.itertuples()}
    rows = [{"goal or control": r.goal, **{f"seed {s}": cell.get((r.goal, s), "") for s in seeds},
             "target": r.target, "met": f"{r.met_by} of {r.seeds} (needs {r.required})",
             "holds": "yes" if bool(r.holds) else "no"} for r in ranges.itertuples()]
    judged = ranges[ranges["kind"] != "control"]
    return (f"{int(judged['holds'].sum())} of {len(judged)} safety goals hold over {len(seeds)} training seeds "
            f"(each seed's zoo through the whole pipeline, notebook 11's tables; \"(no)\" marks a seed that misses). "
            "Z2's and Z0's goals ask for 2 of 3 seeds, the clean goals for every seed; the other rows are "
            "controls, reported as measured.\n\n" + _md(pd.DataFrame(rows)))


def _suite(p: dict):
    from .corruptions import resolve_suite

    return resolve_suite(p["corruptions"]["suite"])


BLOCKS = {"hub-bytes": hub_bytes, "answer": answer, "paper-cost": paper_cost, "timings": timings, "timings-brief": timings_brief, "binder": binder, "cpu-kinds": cpu_kinds, "zoo-goals": zoo_goals,
          "zoo-endpoint": zoo_endpoint, "zoo-seeds": zoo_seeds, "zoo-recipe": zoo_recipe, "safety": safety,
          "safety-seeds": safety_seeds}


def documents() -> list[Path]:
    return [p for pattern in DOCUMENTS for p in sorted(paths.ROOT.glob(pattern))]


def render(text: str, where: str) -> str:
    def repl(m: re.Match) -> str:
        name = m.group("name")
        if name not in BLOCKS:
            raise KeyError(f"{where}: unknown findings block '{name}' (known: {', '.join(BLOCKS)})")
        return m.group(1) + BLOCKS[name]() + m.group(4)

    return BLOCK.sub(repl, text)


def stale() -> list[str]:
    """The documents whose generated blocks differ from what the published files give."""
    return [str(p.relative_to(paths.ROOT)) for p in documents()
            if render(p.read_text(), str(p)) != p.read_text()]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vlmrobust.findings", description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="only list stale documents (exit 1 if any)")
    a = ap.parse_args(argv)
    if a.check:
        bad = stale()
        for f in bad:
            print(f"stale: {f} (python -m vlmrobust.findings rewrites it)", file=sys.stderr)
        return 1 if bad else 0
    for p in documents():
        new = render(p.read_text(), str(p))
        if new != p.read_text():
            p.write_text(new)
            print(f"rewrote {p.relative_to(paths.ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
