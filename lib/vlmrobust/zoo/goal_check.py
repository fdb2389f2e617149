"""Held-out evaluation of the zoo against its goals, with the pipeline's own pieces.

Everything that defines a condition comes from the run's params and the pipeline's
functions, not from rules of its own: the corruptions are the run's suite
(``corruptions.suite``) at its highest severity, made by ``corruptions.corrupt`` with the
pipeline's seeds; the prompt variants per dataset are ``prompts.variants_for`` (clean items
get every variant, corrupted ones the main variant); each stage is loaded and prompted as the
run's model whose source is that checkpoint (its ``prompt_style``, ``family``, ``dtype``);
generation is ``inference.generate_batch``; scores are ``scoring.score_response``.

The items are held out twice: the training split is a different seed stream, and the
evaluation items use ``seed + 1000``, so they are not the run's own samples either.
``max_new_tokens`` is 24 here (the zoo's longest answer is a short sentence) to keep
notebook 00 fast; notebook 02 uses the run's ``inference.max_new_tokens``. Batch size and the
vision cache are the run's (``inference.batch_size``, ``inference.vision_cache_mb``): stages with
equal towers (``pt`` and ``it``; ``po`` and ``po-aug`` too with ``po_tower: frozen``) encode each
held-out image once (the cache keys the tower by a digest of its weights).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import corruptions, design, inference, models, prompts, vision_cache
from ..answer_format import format_ok
from ..data import DATASETS, load_benchmark, synthetic
from ..design import MAIN_VARIANT
from ..progress import bar as progress_bar
from ..scoring import score_response
from ..stats import percentile_interval, resample_indices
from .config import STAGES
from .examples import TASKS

HELD_OUT_SEED_OFFSET = 1000


def zoo_dir(params: dict) -> Path:
    """The run's zoo directory (``zoo.dir`` with ``{run_dir}`` expanded)."""
    return Path(models.expand_source(params["zoo"]["dir"], params["run"]))


def stage_models(params: dict) -> dict[str, tuple[str, dict]]:
    """stage -> (model name, model spec) of the run's model whose source is that stage's checkpoint."""
    root = zoo_dir(params).resolve()
    found = {}
    for name, spec in params["models"].items():
        src = Path(models.expand_source(spec["source"], params["run"])).resolve()
        if src.parent == root and src.name in STAGES:
            found[src.name] = (name, spec)
    missing = [s for s in STAGES if s not in found]
    if missing:
        raise ValueError(f"no model in params 'models' has its source at {root}/<stage> for stage(s) {missing}; "
                         "the zoo's goal check loads each stage as the run's model that points at it")
    return found


def conditions(params: dict) -> list[tuple[str, int]]:
    """Clean, then every corruption of the run's suite at every severity of the run."""
    suite = corruptions.resolve_suite(params["corruptions"]["suite"])
    return corruptions.conditions_for(suite, params["corruptions"]["severities"])


CLEAN_ONLY = ("pt",)  # pt enters no control; it is checked on clean items only (answer format)


def evaluate(params: dict, batch_size: int | None = None, max_new_tokens: int = 24,
             progress: bool = True, stages=None) -> pd.DataFrame:
    """Score every stage (or only ``stages``) on ``zoo.eval_items`` held-out items per task; one row
    per response."""
    from PIL import Image

    seed, inf = params["seed"], params["inference"]
    batch_size = batch_size or inf["batch_size"]
    cache = vision_cache.VisionCache(inf["vision_cache_mb"]) if inf["vision_cache_mb"] else None
    n = params["zoo"]["eval_items"]
    items = pd.concat([load_benchmark(d, n, seed=seed + HELD_OUT_SEED_OFFSET) for d in TASKS], ignore_index=True)
    conds = conditions(params)
    images = {}
    for r in items.itertuples():
        for c, sev in conds:
            seed_c = corruptions.derive_seed(seed, r.dataset, r.sample_id, c, sev)
            images[(r.dataset, r.sample_id, c, sev)] = Image.fromarray(corruptions.corrupt(r.image, c, sev, seed_c))
    rows = []
    for stage, (name, spec) in stage_models(params).items():
        if stages is not None and stage not in stages:
            continue
        lm = models.load(name, spec, params["run"], inf["device"])
        if cache is not None:
            vision_cache.attach(lm.model, cache)
        jobs = []
        for r in items.itertuples():
            clean_variants = prompts.variants_for(r.dataset, inf["prompt_variants"], inf["concise_datasets"])
            for c, sev in (conds[:1] if stage in CLEAN_ONLY else conds):
                for variant in (clean_variants if c == corruptions.CLEAN else [MAIN_VARIANT]):
                    jobs.append((r, c, sev, variant))
        for k in progress_bar(range(0, len(jobs), batch_size), desc=f"evaluate {stage}", disable=not progress):
            chunk = jobs[k:k + batch_size]
            texts = [prompts.build(lm.processor, lm.prompt_style, lm.family, r.question, list(r.options),
                                   concise=(v == prompts.CONCISE_VARIANT)) for r, c, sev, v in chunk]
            outs = inference.generate_batch(lm, [images[(r.dataset, r.sample_id, c, sev)] for r, c, sev, v in chunk],
                                            texts, max_new_tokens, [len(r.options) for r, *_ in chunk])
            for (r, c, sev, v), o in zip(chunk, outs):
                scorer = DATASETS[r.dataset]["scorer"]
                sc = score_response(scorer, o["response"], r.answers, r.answer, r.options)
                rows.append({"model": stage, "dataset": r.dataset, "sample_id": r.sample_id, "corruption": c,
                             "severity": sev, "prompt_variant": v, "response": o["response"],
                             "score": sc["score"], "question_type": r.question_type,
                             "n_options": len(r.options), "format_ok": format_ok(scorer, r.question_type, o["response"],
                                                                          r.options)})
    return pd.DataFrame(rows)


CONTROLS = {("it", "po"): "negative", ("it", "po-aug"): "positive"}  # (base, aligned) stages -> control
POOLED = "pooled (4 tasks)"  # controls(): the four tasks' items as one sample
POSITIVE_REL_MCE = 0.85  # the positive control's Rel. mCE must be at most this (and its interval below 1)
CONTROL_COLUMNS = ["pair", "control", "dataset", "estimate", "ci_lo", "ci_hi", "share_undefined", "n_items",
                   "ratio_if_undegraded", "degradation_ratio", "degradation_lo", "degradation_hi"]


def chance(question_type: str, n_options: int) -> float:
    """Accuracy of a uniform guess over the answer space of an item's question type."""
    if n_options:
        return 1.0 / n_options
    space = {"relation_yesno": 2, "relation_shape": len(synthetic.SHAPES), "shape": len(synthetic.SHAPES),
             "relation_colour": len(synthetic.COLOURS), "colour": len(synthetic.COLOURS),
             "count": synthetic.MAX_COUNT, "ocr": len(synthetic.WORDS)}
    return 1.0 / space[question_type]


def stage_params(params: dict) -> dict:
    """The run's params with its pairs and reference renamed from model names to zoo stages, keeping
    the pairs the goal check evaluates under corruption (not pt's): notebook 03's functions then
    compute the controls on the goal check's held-out items unchanged."""
    stage_of = {name: stage for stage, (name, _) in stage_models(params).items()}
    ps = {}
    for pid, q in design.enabled_pairs(params).items():
        b, a = stage_of.get(q["base"]), stage_of.get(q["aligned"])
        if b and a and b not in CLEAN_ONLY and a not in CLEAN_ONLY:
            ps[pid] = {**q, "base": b, "aligned": a}
    ref = stage_of.get(params["reference"])
    if ref is None or ref in CLEAN_ONLY:
        raise ValueError(f"params 'reference' = {params['reference']!r} is not the zoo's it, po or po-aug "
                         "checkpoint; the zoo's controls are measured against the reference")
    return {**params, "pairs": ps, "reference": ref,
            "benchmark": {**params["benchmark"], "datasets": list(TASKS)}}


def controls(ev: pd.DataFrame, params: dict) -> pd.DataFrame:
    """Rel. mCE (``rel_mce_ratio``) of the zoo's pairs per task with its paired-bootstrap interval,
    computed by notebook 03's own function (``analyses.ce_tables.bootstrap``); ``control`` says which
    pair is the negative and which the positive control.

    Beside it, from the same resamples: ``ratio_if_undegraded``, the Rel. mCE the aligned model would
    have if no corruption hurt it (the ratio form's floor at its clean accuracy), and
    ``degradation_ratio`` with its interval: the error corruptions add to the aligned model over the
    error they add to the base (``metrics.bootstrap_pair``), which a robustness effect moves whatever
    the clean accuracies.

    A last row per pair, dataset ``POOLED``, treats the four tasks' items as one sample (item ids
    prefixed with their task; resampled jointly, not per task): a base that loses only a few items'
    worth of accuracy per task leaves each task's degradation ratio too noisy to read, and the
    pooled one has four times the items. It is reported beside the per-task goals, not counted in them.
    """
    from ..analyses import ce_tables

    zp = stage_params(params)
    if not zp["pairs"]:
        return pd.DataFrame(columns=CONTROL_COLUMNS)
    pooled = ev.assign(sample_id=design.item_id(ev), dataset=POOLED)
    boot = pd.concat([ce_tables.bootstrap(ev, zp, macro=False),
                      ce_tables.bootstrap(pooled, {**zp, "benchmark": {**zp["benchmark"], "datasets": [POOLED]}},
                                          macro=False)],
                     ignore_index=True)
    keys = ["pair", "dataset"]
    out = boot[boot["statistic"] == "rel_mce_ratio"].copy()
    floor = boot[boot["statistic"] == "rel_mce_ratio_undegraded"][keys + ["estimate"]]
    deg = boot[boot["statistic"] == "degradation_ratio"][keys + ["estimate", "ci_lo", "ci_hi"]]
    out = out.merge(floor.rename(columns={"estimate": "ratio_if_undegraded"}), on=keys).merge(
        deg.rename(columns={"estimate": "degradation_ratio", "ci_lo": "degradation_lo", "ci_hi": "degradation_hi"}),
        on=keys)
    roles = {pid: CONTROLS.get((q["base"], q["aligned"]), "-") for pid, q in zp["pairs"].items()}
    out["control"] = out["pair"].map(roles)
    return out[CONTROL_COLUMNS]


def endpoint(ev: pd.DataFrame, params: dict) -> pd.DataFrame:
    """The confirmatory degradation endpoint (``analyses.degradation``: accuracy lost to corruption,
    base minus aligned, per item, averaged over the run's corrupted conditions) for the zoo's pairs on
    the held-out items, per task and pooled, with ``control`` naming the negative and positive ones.
    This is what the positive and negative control goals are judged by."""
    from ..analyses import degradation

    zp = stage_params(params)
    pairs = [design.Pair(pid, q["base"], q["aligned"], q["method"]) for pid, q in zp["pairs"].items()]
    a = params["analysis"]
    out = degradation.endpoint(ev, pairs, n_boot=a["bootstrap"], seed=params["seed"], ci=a["ci"])
    out.insert(1, "control", [CONTROLS.get((b, al), "-") for b, al in zip(out["base"], out["aligned"])])
    return out


def control_verdicts(ep: pd.DataFrame) -> dict:
    """The controls' verdicts from ``endpoint``'s rows: the positive control is detected where the
    interval is above 0 on at least two tasks (the goal's rule); the same rule on the negative control
    is a false positive; the negative control holds where at least three tasks' intervals contain 0.
    Beside the rule, the pooled row's interval (the four tasks' items as one sample), descriptive."""
    from ..analyses.degradation import POOLED as POOLED_ROW

    tasks = ep[ep["dataset"] != POOLED_ROW]
    out = {}
    for role in ("positive", "negative"):
        t = tasks[tasks["control"] == role]
        p = ep[(ep["dataset"] == POOLED_ROW) & (ep["control"] == role)]
        out[role] = {"above_0": int((t["ci_lo"] > 0).sum()), "contain_0": int(((t["ci_lo"] <= 0) & (t["ci_hi"] >= 0)).sum()),
                     "tasks": len(t), "pair": "/".join(t["pair"].unique()) or "(none in the run)",
                     "pooled_above_0": bool(len(p) and p["ci_lo"].iloc[0] > 0)}
        out[role]["detected"] = out[role]["above_0"] >= DETECT_TASKS
    return out


DETECT_TASKS = 2  # the endpoint detects a control's effect where >= 2 of the 4 tasks' intervals are above 0


def _lost_per_item(ev: pd.DataFrame, stages) -> pd.DataFrame:
    """Clean minus corrupted score per (model, dataset, item) x severity, main prompt, mean over the
    run's corruptions."""
    main = ev[(ev["prompt_variant"] == MAIN_VARIANT) & ev["model"].isin(stages)]
    clean = main[main["corruption"] == corruptions.CLEAN].groupby(["model", "dataset", "sample_id"])["score"].mean()
    cor = (main[main["corruption"] != corruptions.CLEAN]
           .groupby(["model", "dataset", "sample_id", "severity"])["score"].mean().unstack("severity"))
    return (-cor).add(clean, axis=0)


def _task_mean_interval(lost: pd.DataFrame, rng, n_boot: int, ci: float):
    """Mean over tasks (each weighted alike) of the per-task item means, per severity column of a
    (dataset, item) x severity frame, and its bootstrap interval with items resampled within
    their task. Returns (point, lo, hi) arrays over the columns."""
    import numpy as np

    per_task = [lost.xs(d, level="dataset").to_numpy() for d in lost.index.get_level_values("dataset").unique()]
    point = np.mean([t.mean(0) for t in per_task], axis=0)
    boot = np.mean([t[resample_indices(len(t), n_boot, rng)].mean(1) for t in per_task], axis=0)
    lo, hi = percentile_interval(boot, ci, axis=0)
    return point, lo, hi


def accuracy_lost(ev: pd.DataFrame, stages=("it", "po", "po-aug"), n_boot: int = 2000, seed: int = 0,
                  ci: float = 0.95) -> pd.DataFrame:
    """Clean minus corrupted accuracy per stage and severity (main prompt), mean over the run's
    corruptions and then over the four tasks (each task weighted alike), with an item-bootstrap
    interval (items resampled within their task): the planted effect in its plainest form, since
    ``po-aug`` should lose less than ``po`` and ``it`` at every severity."""
    import numpy as np

    lost = _lost_per_item(ev, stages)
    rng = np.random.default_rng(seed)
    rows = []
    for m in [s for s in stages if s in lost.index.get_level_values("model")]:
        point, lo, hi = _task_mean_interval(lost.loc[m], rng, n_boot, ci)
        rows += [{"model": m, "severity": sev, "accuracy_lost": point[j], "ci_lo": lo[j], "ci_hi": hi[j]}
                 for j, sev in enumerate(lost.columns)]
    return pd.DataFrame(rows)


def planted_difference(ev: pd.DataFrame, base: str = "po", treated: str = "po-aug", n_boot: int = 2000,
                       seed: int = 0, ci: float = 0.95) -> pd.DataFrame:
    """Accuracy lost by ``treated`` minus accuracy lost by ``base``, per severity (the quantities of
    ``accuracy_lost``), with a paired item bootstrap: the same resampled items for both models, so
    the item-to-item difficulty both share cancels. ``po`` and ``po-aug`` differ only in the images
    of their training data, so this is the planted effect itself, free of whatever preference
    optimisation on clean images does to robustness (which the controls against ``it`` carry):
    negative where ``po-aug`` loses less."""
    import numpy as np

    lost = _lost_per_item(ev, (base, treated))
    diff = (lost.loc[treated] - lost.loc[base]).dropna(how="all")
    point, lo, hi = _task_mean_interval(diff, np.random.default_rng(seed), n_boot, ci)
    return pd.DataFrame([{"contrast": f"{treated} - {base}", "severity": sev, "difference": point[j],
                          "ci_lo": lo[j], "ci_hi": hi[j]} for j, sev in enumerate(diff.columns)])


def goals(ev: pd.DataFrame, params: dict) -> pd.DataFrame:
    """The zoo's goals, measured on held-out items: one row per goal with the value, the target
    and a verdict (``kind`` "goal"), and the paper's Rel. mCE reading of the positive control as a
    last, descriptive row (``met`` None). Chance per task is the mean over its items of ``chance``
    (a uniform guess). The controls are judged by the degradation endpoint (``endpoint``)."""
    clean = ev[(ev["corruption"] == corruptions.CLEAN) & (ev["prompt_variant"] == MAIN_VARIANT)]
    acc = clean.groupby(["model", "dataset"])["score"].mean().unstack()
    base = clean[clean["model"] == "it"]
    chance_of = base.assign(c=[chance(q, n) for q, n in zip(base["question_type"], base["n_options"])]
                            ).groupby("dataset")["c"].mean()
    rows = []
    for d in TASKS:
        v, c = float(acc.loc["it", d]), float(chance_of[d])
        rows.append((f"it: clean accuracy on {d} (chance {c:.2f})", v, f">= {c + 0.25:.2f} (chance + 0.25)",
                     v >= c + 0.25))
    v = float(acc.loc["it"].mean())
    rows.append(("it: clean accuracy, mean of the four tasks", v, ">= 0.55", v >= 0.55))
    v = float(acc.loc["it", "synth-text"])
    rows.append(("it: clean accuracy on synth-text (reading)", v, ">= 0.50", v >= 0.50))
    it = ev[(ev["model"] == "it") & (ev["prompt_variant"] == MAIN_VARIANT)]
    top = it["severity"].max()
    by = it[(it["corruption"] == corruptions.CLEAN) | (it["severity"] == top)].groupby("corruption")["score"].mean()
    v = float(by[corruptions.CLEAN] - by.drop(corruptions.CLEAN).mean())
    rows.append((f"it: accuracy lost at severity {top}, mean over the run's corruptions", v, ">= 0.10", v >= 0.10))
    verdict = control_verdicts(endpoint(ev, params))
    pos, neg = verdict["positive"], verdict["negative"]
    rows.append((f"positive control {pos['pair']} (it, po-aug): tasks where the degradation endpoint's interval "
                 "(accuracy lost by it minus by po-aug) is above 0", pos["above_0"], f">= {DETECT_TASKS} of 4",
                 pos["detected"]))
    v = float(acc.loc["po-aug"].mean() - acc.loc["po"].mean())
    rows.append(("po-aug minus po: clean accuracy, mean of the four tasks", v, "within +-0.05", abs(v) <= 0.05))
    rows.append((f"negative control {neg['pair']} (it, po): tasks whose degradation endpoint interval contains 0",
                 neg["contain_0"], ">= 3 of 4", neg["contain_0"] >= 3))
    plain = ev[(ev["corruption"] == corruptions.CLEAN) & (ev["prompt_variant"] == "plain") & (ev["model"] == "it")]
    for d in ("synth-vqa", "synth-text"):
        drop = float(acc.loc["it", d] - plain[plain["dataset"] == d]["score"].mean())
        rows.append((f"it: accuracy lost on {d} without the concise instruction", drop, "marked (>= 0.30)",
                     drop >= 0.30))
    pt = clean[clean["model"] == "pt"]
    v = float(pt["format_ok"].mean())
    rows.append(("pt: share of responses in the expected answer format", v, "rare (<= 0.20)", v <= 0.20))
    out = pd.DataFrame(rows, columns=["goal", "measured", "target", "met"])
    # Rel. mCE, the paper's metric, described beside the goals: its floor at the zoo's clean accuracy
    # makes it unreachable for a pure robustness effect, so it judges nothing (docs/zoo.md)
    ctl = controls(ev, params)
    ctl = ctl[(ctl["dataset"] != POOLED) & (ctl["control"] == "positive")]
    k = int(((ctl["estimate"] <= POSITIVE_REL_MCE) & (ctl["ci_hi"] < 1)).sum())
    described = pd.DataFrame([{"goal": f"(descriptive) positive control: tasks with Rel. mCE <= {POSITIVE_REL_MCE} "
                                       "and interval below 1", "measured": k, "target": "descriptive, not a goal",
                               "met": None}])
    out["kind"] = "goal"
    return pd.concat([out, described.assign(kind="descriptive")], ignore_index=True)
