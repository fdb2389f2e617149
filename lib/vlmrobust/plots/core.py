"""Figures of notebooks 00-03 and 09: the paper's Figures 1-4 and 6, the corruption grid, the zoo's
training curves and accuracy bars; and ``save``, which every figure goes through."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import seaborn as sns
import numpy as np
from PIL import Image

from .. import paths


def save(fig, run: str, name: str) -> str:
    """PNG (for people and the report) and PDF (for papers) under ``outputs/<run>/figures/``."""
    d = paths.figures_dir(run)
    fig.savefig(d / f"{name}.png", dpi=130, bbox_inches="tight")
    fig.savefig(d / f"{name}.pdf", bbox_inches="tight")
    return str(d / f"{name}.png")


def _img(data) -> np.ndarray:
    if isinstance(data, (bytes, bytearray)):
        return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))
    return np.asarray(data)


def severity_strip(images: list, titles: list[str], suptitle: str = ""):
    """A row of images (the paper's Figure 1: clean, then severities 1, 3, 5)."""
    fig, axes = plt.subplots(1, len(images), figsize=(2.6 * len(images), 2.9))
    for ax, im, t in zip(np.atleast_1d(axes), images, titles):
        ax.imshow(_img(im))
        ax.set_title(t, fontsize=10)
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle, fontsize=11)
    fig.tight_layout()
    return fig


def corruption_grid(images: dict, families: dict[str, tuple[str, ...]], severities: list[int]):
    """One row per corruption family; each corruption shown at every severity side by side.

    ``images[(name, severity)]``; ``families`` maps family -> corruption names.
    """
    per_row = max(len(cs) for cs in families.values()) * len(severities)
    nr = len(families)
    fig, axes = plt.subplots(nr, per_row, figsize=(1.55 * per_row, 1.85 * nr), squeeze=False)
    for i, (family, names) in enumerate(families.items()):
        for j in range(per_row):
            ax = axes[i][j]
            ax.set_xticks([])
            ax.set_yticks([])
            k, si = divmod(j, len(severities))
            if k >= len(names):
                ax.axis("off")
                continue
            ax.imshow(_img(images[(names[k], severities[si])]))
            ax.set_title(f"{names[k].replace('_', ' ')}\nseverity {severities[si]}", fontsize=7)
            if j == 0:
                ax.set_ylabel(family, fontsize=9)
    fig.tight_layout(pad=0.3)
    return fig


# --- pair comparisons (the paper's Figures 2, 3, 4 and 6) -----------------------------

PAIR_COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"]


def _pair_colours(pairs):
    return {p: PAIR_COLOURS[i % len(PAIR_COLOURS)] for i, p in enumerate(pairs)}


def paired_bars(df, value: str, ylabel: str, title: str, ref_line: float | None = None,
                datasets: list[str] | None = None, errors: tuple[str, str] | None = None):
    """Grouped bars per dataset: one colour per pair, base solid, aligned hatched (Figs. 2, 3).

    ``df``: tidy rows with pair, pair_label, role ('base'/'aligned'), dataset and ``value``;
    ``errors`` optionally names (lo, hi) interval columns.
    """
    datasets = datasets or list(dict.fromkeys(df["dataset"]))
    pairs = list(dict.fromkeys(df["pair"]))
    colours = _pair_colours(pairs)
    nb = 2 * len(pairs)
    width = 0.8 / nb
    fig, ax = plt.subplots(figsize=(max(7.5, 1.9 * len(datasets)), 4.6))
    for pi, p in enumerate(pairs):
        for ri, role in enumerate(("base", "aligned")):
            sub = df[(df["pair"] == p) & (df["role"] == role)].set_index("dataset").reindex(datasets)
            x = np.arange(len(datasets)) - 0.4 + width * (2 * pi + ri + 0.5)
            yerr = None
            if errors is not None:
                lo, hi = sub[errors[0]].to_numpy(), sub[errors[1]].to_numpy()
                yerr = np.clip(np.vstack([sub[value] - lo, hi - sub[value]]), 0, None)
            label = f"{sub['pair_label'].dropna().iloc[0] if 'pair_label' in sub else p} {role}"
            ax.bar(x, sub[value], width, color=colours[p], edgecolor="black", linewidth=0.5,
                   hatch="//" if role == "aligned" else None, alpha=0.9 if role == "base" else 0.55,
                   yerr=yerr, capsize=2, label=label)
    if ref_line is not None:
        ax.axhline(ref_line, color="black", linestyle="--", linewidth=1)
    ax.set_xticks(np.arange(len(datasets)), datasets)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=2, frameon=False, bbox_to_anchor=(0.5, -0.1), loc="upper center")
    fig.tight_layout()
    return fig


def radar_pairs(df, value: str, title: str, datasets: list[str] | None = None):
    """One radar per pair: axes = datasets, base solid, aligned dashed (the paper's Figure 4)."""
    datasets = datasets or list(dict.fromkeys(df["dataset"]))
    pairs = list(dict.fromkeys(df["pair"]))
    colours = _pair_colours(pairs)
    n = len(pairs)
    cols = 2 if n > 1 else 1
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.9 * rows), subplot_kw={"polar": True},
                             squeeze=False)
    angles = np.linspace(0, 2 * np.pi, len(datasets), endpoint=False).tolist()
    vmax = float(np.nanmax(df[value])) * 1.1
    for k, p in enumerate(pairs):
        ax = axes[k // cols][k % cols]
        for role, ls in (("base", "-"), ("aligned", "--")):
            sub = df[(df["pair"] == p) & (df["role"] == role)].set_index("dataset").reindex(datasets)
            vals = sub[value].tolist()
            ax.plot(angles + angles[:1], vals + vals[:1], color=colours[p], linestyle=ls, label=role)
            ax.fill(angles + angles[:1], vals + vals[:1], color=colours[p], alpha=0.08)
        ax.set_xticks(angles, datasets, fontsize=8)
        ax.set_ylim(0, vmax)
        ax.tick_params(axis="y", labelsize=7)
        lab = df.loc[df["pair"] == p, "pair_label"].iloc[0] if "pair_label" in df else p
        ax.set_title(lab if str(lab).startswith(p) else f"{p}: {lab}", fontsize=9, color=colours[p])
        ax.legend(fontsize=7, loc="lower right", bbox_to_anchor=(1.25, -0.1), frameon=False)
    for k in range(n, rows * cols):
        axes[k // cols][k % cols].axis("off")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def rel_bars(df, value: str, title: str, datasets: list[str] | None = None,
             errors: tuple[str, str] | None = None):
    """Rel. mCE per dataset, one bar per pair, dashed line at 1 (the paper's Figure 6)."""
    datasets = datasets or list(dict.fromkeys(df["dataset"]))
    pairs = list(dict.fromkeys(df["pair"]))
    colours = _pair_colours(pairs)
    width = 0.8 / len(pairs)
    fig, ax = plt.subplots(figsize=(max(6.5, 1.9 * len(datasets)), 3.6))
    for i, p in enumerate(pairs):
        sub = df[df["pair"] == p].set_index("dataset").reindex(datasets)
        x = np.arange(len(datasets)) - 0.4 + width * (i + 0.5)
        yerr = None
        if errors is not None:
            yerr = np.clip(np.vstack([sub[value] - sub[errors[0]], sub[errors[1]] - sub[value]]), 0, None)
        lab = sub["pair_label"].dropna().iloc[0] if "pair_label" in sub else p
        ax.bar(x, sub[value], width, color=colours[p], edgecolor="black", linewidth=0.5, yerr=yerr,
               capsize=2, label=lab if str(lab).startswith(p) else f"{p}: {lab}")
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1)
    ax.set_xticks(np.arange(len(datasets)), datasets)
    ax.set_ylabel("Rel. mCE (aligned / base)")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, frameon=False, bbox_to_anchor=(1.01, 1), loc="upper left")
    fig.tight_layout()
    return fig


def loss_curves(stages: dict, window: int = 25):
    """Training loss per step for each zoo stage (moving average over ``window`` steps)."""
    fig, axes = plt.subplots(1, len(stages), figsize=(4 * len(stages), 3), squeeze=False)
    for ax, (name, st) in zip(axes[0], stages.items()):
        loss = np.asarray(st["loss"], float)
        ax.plot(loss, color="0.75", linewidth=0.7, label="per step")
        if len(loss) >= window:
            ma = np.convolve(loss, np.ones(window) / window, mode="valid")
            ax.plot(np.arange(window - 1, len(loss)), ma, color="C0", label=f"mean of {window}")
        ax.set_title(f"{name}: {st['steps']} steps, {st['seconds']:.0f} s", fontsize=9)
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.legend(fontsize=7, frameon=False)
    fig.tight_layout()
    return fig


def accuracy_by_condition(acc, x: str, hue: str, facet: str, title: str, ylabel: str = "accuracy"):
    """Bars of ``acc`` (a tidy frame with acc, ci_lo, ci_hi) per ``x`` and ``hue``, one panel per ``facet``.

    seaborn lays out the facets and bars (``catplot``); the error bars are the frame's own
    intervals (Wilson, at the run's level), not seaborn's bootstrap of raw scores.
    """
    import seaborn as sns

    order, hue_order = list(dict.fromkeys(acc[x])), list(dict.fromkeys(acc[hue]))
    facets = list(dict.fromkeys(acc[facet]))
    g = sns.catplot(data=acc, kind="bar", x=x, y="acc", hue=hue, col=facet, order=order, hue_order=hue_order,
                    col_order=facets, errorbar=None, height=3.2, aspect=1.0, sharey=True,
                    palette=[f"C{i}" for i in range(len(hue_order))])
    for ax, f in zip(g.axes.flat, facets):
        sub = acc[acc[facet] == f]
        for bars, h in zip(ax.containers, hue_order):
            d = sub[sub[hue] == h].set_index(x)
            d = d.reindex([o for o in order if o in d.index])  # seaborn draws no bar for a missing cell
            centres = [b.get_x() + b.get_width() / 2 for b in bars]
            if len(centres) != len(d):
                raise ValueError(f"accuracy_by_condition: {len(centres)} bars but {len(d)} values for {h!r} in {f!r}")
            err = np.clip(np.vstack([d["acc"] - d["ci_lo"], d["ci_hi"] - d["acc"]]), 0, None)
            ax.errorbar(centres, d["acc"], yerr=err, fmt="none", ecolor="black", elinewidth=0.8, capsize=2)
        ax.set_title(str(f), fontsize=9)
        ax.set_xticks(range(len(order)), [str(v).replace("_", "\n") for v in order], fontsize=7, rotation=30,
                      ha="right")
        ax.set_xlabel("")
        ax.set_ylim(0, 1.05)
    g.set_ylabels(ylabel)
    g.figure.suptitle(title, fontsize=10)
    sns.move_legend(g, "upper left", bbox_to_anchor=(1.0, 0.85), frameon=False, fontsize=7, title=hue)
    g.tight_layout()  # the grid's own layout keeps room for the legend outside the panels
    return g.figure


DEGRADATION_XLIM = (-1.0, 3.0)  # control_intervals: the degradation ratio's axis (ends beyond it printed)


def control_intervals(ctl, title: str):
    """The zoo's controls at a glance, two panels over the same pairs and tasks: Rel. mCE (the paper's
    ratio form) with its bootstrap interval and, as a cross, the value the aligned model would have if
    no corruption hurt it (the ratio form's floor at its clean accuracy); and the degradation ratio
    (error added by corruptions, aligned over base) with its interval. Lines at 1 (no difference) and
    at the positive control's target (0.85)."""
    from ..zoo.goal_check import POSITIVE_REL_MCE

    labels = [f"{p} ({c})" for p, c in zip(ctl["pair"], ctl["control"])]
    ctl = ctl.assign(label=labels)
    order = list(dict.fromkeys(labels))
    datasets = list(dict.fromkeys(ctl["dataset"]))
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.5 * len(datasets) * len(order) + 1.8), sharey=True)
    colours = dict(zip(order, sns.color_palette("colorblind", len(order))))
    panels = (("estimate", "ci_lo", "ci_hi", "Rel. mCE (ratio form; x: if the aligned model were undegraded)"),
              ("degradation_ratio", "degradation_lo", "degradation_hi",
               "degradation ratio (error corruptions add: aligned / base)"))
    for ax, (est_col, lo_col, hi_col, xlabel) in zip(axes, panels):
        for j, lab in enumerate(order):
            g = ctl[ctl["label"] == lab].set_index("dataset").reindex(datasets)
            y = np.arange(len(datasets)) + (j - (len(order) - 1) / 2) * 0.25
            ax.errorbar(g[est_col], y, xerr=[g[est_col] - g[lo_col], g[hi_col] - g[est_col]], fmt="o",
                        color=colours[lab], label=lab, capsize=3)
            if est_col == "estimate":
                ax.plot(g["ratio_if_undegraded"], y, "x", color=colours[lab], markersize=6)
            for yy, est in zip(y, g[est_col]):
                if not np.isfinite(est):  # undefined (a zero denominator): say so, do not drop it
                    ax.text(0.5, yy, f"{lab}: undefined", transform=ax.get_yaxis_transform(),
                            ha="center", va="center", fontsize=7, color=colours[lab])
            if est_col == "degradation_ratio":  # a base that loses ~nothing makes some intervals huge:
                for yy, lo, hi in zip(y, g[lo_col], g[hi_col]):  # clip the axis, print the clipped ends
                    for end, edge, ha in ((hi, DEGRADATION_XLIM[1], "right"), (lo, DEGRADATION_XLIM[0], "left")):
                        if np.isfinite(end) and (end > edge if ha == "right" else end < edge):
                            ax.text(edge, yy - 0.08, f"{end:.1f}", ha=ha, va="bottom", fontsize=7, color=colours[lab])
        if est_col == "degradation_ratio":
            ax.set_xlim(*DEGRADATION_XLIM)
        ax.axvline(1.0, color="black", linewidth=0.8)
        ax.axvline(POSITIVE_REL_MCE, color="grey", linestyle="--", linewidth=0.8,
                   label=f"positive target {POSITIVE_REL_MCE}")
        ax.set_xlabel(xlabel + "\n< 1: the aligned model is more robust", fontsize=9)
    axes[0].set_yticks(np.arange(len(datasets)), datasets)
    axes[0].invert_yaxis()
    axes[1].legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def _lines_by_severity(ax, lost, series: str = "model", value: str = "accuracy_lost") -> None:
    """One line per ``series`` value against severity, each with its interval (``ci_lo``, ``ci_hi``),
    dodged sideways so that the intervals do not hide each other."""
    names = list(dict.fromkeys(lost[series]))
    for k, (m, colour) in enumerate(zip(names, sns.color_palette("colorblind", len(names)))):
        g = lost[lost[series] == m].sort_values("severity")
        x = g["severity"].to_numpy(float) + (k - (len(names) - 1) / 2) * 0.08
        ax.errorbar(x, g[value], yerr=[g[value] - g["ci_lo"], g["ci_hi"] - g[value]],
                    fmt="o-", color=colour, label=m, capsize=3)
    ax.axhline(0.0, color="black", linewidth=0.8)
    ax.set_xticks(sorted(lost["severity"].unique()))
    ax.set_xlabel("corruption severity")


def accuracy_lost_by_severity(lost, title: str):
    """Accuracy lost to the corruptions against severity, one line per model with its bootstrap
    interval (``zoo.accuracy_lost``): a robustness effect shows as a line below the others."""
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    _lines_by_severity(ax, lost)
    ax.set_ylabel("accuracy lost (clean - corrupted)")
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig


def accuracy_lost_by_seed(lost, title: str, contrast: str = "po-aug - po"):
    """The seed study in one picture: per training seed (columns), the accuracy each model loses
    (top) and the planted contrast with its paired interval (bottom, ``zoo.planted_difference``;
    below 0 where the augmented model loses less). ``lost`` is ``zoo_seeds``' ``accuracy_lost.csv``:
    ``accuracy_lost`` rows with a ``seed`` column, the contrast's rows named ``contrast``."""
    seeds = sorted(lost["seed"].unique())
    fig, axes = plt.subplots(2, len(seeds), figsize=(3.6 * len(seeds), 6.2), sharey="row", squeeze=False)
    for j, seed in enumerate(seeds):
        g = lost[lost["seed"] == seed]
        _lines_by_severity(axes[0, j], g[g["model"] != contrast])
        _lines_by_severity(axes[1, j], g[g["model"] == contrast])
        axes[0, j].set_title(f"seed {seed}", fontsize=10)
    axes[0, 0].set_ylabel("accuracy lost (clean - corrupted)")
    axes[1, 0].set_ylabel(f"{contrast}: difference in\naccuracy lost (paired)")
    axes[0, -1].legend(fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig
