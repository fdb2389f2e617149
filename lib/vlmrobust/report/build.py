"""Build ``outputs/<run>/report/index.html``: the run's tables and figures beside the paper's, in its order.

One self-contained page (figures embedded as data URIs, no CDN): the run's params, models,
n and provenance at the top; then every section (``sections.all_sections``) with the run's
tables (read from the CSVs the notebooks wrote, so nothing is re-typed) beside the paper's
published table or redrawn figure; then links to the executed notebooks exported to HTML
(nbconvert's ``basic`` template, no scripts) under ``report/notebooks/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import yaml

from .. import artifacts, paths
from ..design import pairs, run_models
from . import html
from .sections import Section, all_sections


def _paper_side(s: Section, figures: Path) -> str:
    from .. import paper

    parts = []
    for n in s.paper_tables:
        parts.append(html.table(paper.raw_table(n), f"The paper's Table {n} (as printed)"))
    for name in s.paper_figures:
        png = figures / f"{name}.png"
        parts.append(html.figure(png, name) if png.exists() else html.missing(f"figure {name}", "09_paper_audit"))
    return "".join(parts)


def _run_side(s: Section, tables: Path, figures: Path) -> str:
    parts = []
    for name in s.tables:
        csv = tables / f"{name}.csv"
        if csv.exists():
            try:
                t = pd.read_csv(csv)
                t = t.rename(columns={c: "" for c in t.columns if str(c).startswith("Unnamed:")})  # a saved index
                parts.append(html.table(t, f"This run: {name}"))
            except pd.errors.EmptyDataError:  # a table with no rows and no columns
                parts.append(f'<p class="note">This run: {html.esc(name)} is empty (no rows).</p>')
        else:
            parts.append(html.missing(f"table {name}", s.notebook))
    for name in s.figures:
        png = figures / f"{name}.png"
        parts.append(html.figure(png, name) if png.exists() else html.missing(f"figure {name}", s.notebook))
    return "".join(parts)


def _section(s: Section, k: int, tables: Path, figures: Path) -> str:
    run, paper_side = _run_side(s, tables, figures), _paper_side(s, figures)
    head = f'<h2 id="s{k}">{html.esc(s.title)}</h2><p class="note">{html.esc(s.text)} (notebook {s.notebook})</p>'
    if paper_side:
        return (f'{head}<div class="pair"><div><div class="label">this run</div>{run}</div>'
                f'<div><div class="label">the paper</div>{paper_side}</div></div>')
    return head + run


def _verdict(run: str) -> str:
    """The run checked against the published one (``verify``), at the top of the report."""
    from .. import verify

    path = paths.run_dir(run) / verify.VERDICT
    if not path.exists():
        return ('<p class="note">No published run to compare with (<code>results/'
                f'{html.esc(run)}/</code>); <code>make verify</code> compares a run with one.</p>')
    r = json.loads(path.read_text())
    ok = r["verdict"] == "reproduced"
    p = r.get("predictions")
    preds = (f"; predictions: {p['differ']} of {p['compared']} differ" if p else "")
    bad = [t for t in r["tables"] if t["status"] in ("differs", "missing")]
    rows = "".join(f"<li>{html.esc(t['table'])}: {html.esc(t['detail'])}</li>" for t in bad[:12])
    return (f'<div class="verdict {"ok" if ok else "bad"}"><b>{"Reproduced" if ok else "Differs from"} the published '
            f'run</b> ({html.esc(r["published"])}): {r["tables_match"]} of {r["tables_compared"]} tables match'
            f'{html.esc(preds)}.{"<ul>" + rows + "</ul>" if rows else ""}</div>')


BADGE = {"supported": "ok", "contradicted": "bad", "not decidable": "undecided", "not testable here": "untested"}


def _ledger(tables: Path, sections: list) -> str:
    """The claim ledger first (notebook 12): one line per claim of the paper, a verdict badge from its
    printed tables and from this run, the evidence one click away, a link to the ledger's section."""
    csv = tables / "claims.csv"
    if not csv.exists():
        return html.missing("the claim ledger", "12_claim_ledger")
    t = pd.read_csv(csv)
    k = next((i for i, s in enumerate(sections) if s.notebook.startswith("12_")), None)
    rows = []
    for r in t.itertuples():
        rows.append(
            f'<tr><td>{html.esc(r.id)}</td><td class="claim">{html.esc(r.claim)}</td>'
            f'<td><span class="badge {BADGE.get(r.paper_status, "")}">{html.esc(r.paper_status)}</span></td>'
            f'<td><span class="badge {BADGE.get(r.run_status, "")}">{html.esc(r.run_status)}</span></td>'
            f'<td class="claim"><details><summary>evidence</summary><p><b>paper:</b> {html.esc(r.paper_evidence)}</p>'
            f'<p><b>this run:</b> {html.esc(r.run_evidence)}</p></details></td></tr>')
    link = f' (<a href="#s{k}">the full ledger</a>)' if k is not None else ""
    ext = t["id"].str.startswith("X-")
    counts = ", ".join(f"{n} {s}" for s, n in t.loc[~ext, "run_status"].value_counts().items())
    ext_counts = ", ".join(f"{n} {s}" for s, n in t.loc[ext, "run_status"].value_counts().items())
    more = f"; {int(ext.sum())} rows of the extensions (X-), this run: {ext_counts}" if ext.any() else ""
    return (f'<h2 id="ledger">The paper\'s claims, with verdicts</h2><p class="note">{int((~ext).sum())} claims; this '
            f'run: {html.esc(counts)}{html.esc(more)}{link}. The verdict from the paper\'s printed tables is the same on every machine; the '
            f'run\'s verdict judges pair effects by the degradation endpoint (accuracy lost to corruption, base minus '
            f'aligned, per item).</p><div class="scroll"><table class="ledger"><tr><th>id</th><th>claim</th>'
            f'<th>paper\'s tables</th><th>this run</th><th></th></tr>{"".join(rows)}</table></div>')


def _endpoint(tables: Path) -> str:
    """The confirmatory endpoint's pooled rows, beside the ledger."""
    csv = tables / "ethics_endpoint.csv"
    if not csv.exists():
        return ""
    ep = pd.read_csv(csv)
    pooled = ep[ep["dataset"] == "pooled"][["pair", "base", "aligned", "n_items", "base_lost", "aligned_lost",
                                            "estimate", "ci_lo", "ci_hi", "direction"]]
    return html.table(pooled, "The degradation endpoint per pair, pooled over datasets (accuracy lost by the base "
                              "minus by the aligned model; > 0: the aligned model loses less)")


def _header(params: dict, prov: dict) -> str:
    models = pd.DataFrame([{"model": m, "label": params["models"][m]["label"], "source": params["models"][m]["source"],
                            "prompt": params["models"][m]["prompt_style"], "dtype": params["models"][m]["dtype"],
                            "quantization": params["models"][m]["quantization"]} for m in run_models(params)])
    prs = pd.DataFrame([p._asdict() for p in pairs(params)])
    nbs = pd.DataFrame(list(prov.get("notebooks", {}).values()))
    keep = [c for c in ("notebook", "status", "seconds", "started", "commit", "dirty", "params_hash") if c in nbs]
    b = params["benchmark"]
    git = prov.get("git", {})
    facts = (f'<p>Run <b>{html.esc(params["run"])}</b>: datasets {html.esc(", ".join(b["datasets"]))}, '
             f'n = {b["n"]} items each, corruptions {html.esc(params["corruptions"]["suite"])} at severities '
             f'{params["corruptions"]["severities"]}, reference model {html.esc(params["reference"])}. '
             f'Commit {html.esc(git.get("commit") or "unknown")}{" (uncommitted changes)" if git.get("dirty") else ""}; '
             f'machine: {html.esc(prov.get("platform", {}).get("cpu") or "unknown")}, '
             f'{prov.get("platform", {}).get("cores", "?")} cores.</p>')
    return (facts + html.table(models, "Models") + html.table(prs, "Pairs")
            + (html.table(nbs[keep], "Notebooks (last execution of each)") if len(nbs) else "")
            + f'<details><summary>Params (as loaded, defaults filled)</summary><pre>'
              f'{html.esc(yaml.safe_dump(params, sort_keys=False))}</pre></details>')


def export_notebooks(run: str, out: Path) -> list[Path]:
    """The executed notebooks as static HTML pages (no scripts, no CDN) under ``report/notebooks/``."""
    import nbformat
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="basic")
    done = []
    for nb in sorted((paths.run_dir(run) / "notebooks").glob("*.ipynb")):
        body, _ = exporter.from_notebook_node(nbformat.read(nb, as_version=4))
        done.append(artifacts.write_text(out / f"{nb.stem}.html", html.page(nb.stem, body)))
    return done


def build(run: str, params: dict) -> Path:
    """Write the report of ``run``; returns the path of ``index.html``."""
    rd = paths.run_dir(run)
    out = rd / "report"
    prov_path = rd / "provenance.json"
    prov = json.loads(prov_path.read_text()) if prov_path.exists() else {}
    tables, figures = rd / "tables", rd / "figures"
    sections = [s for s in all_sections() if not (s.notebook.startswith("00_") and params["zoo"] is None)]
    nav = "".join(f'<li><a href="#s{k}">{html.esc(s.title)}</a></li>' for k, s in enumerate(sections))
    body = [f'<h1>Do safety-aligned VLMs degrade differently under image corruptions? Run "{html.esc(run)}"</h1>',
            '<p class="note">The run\'s tables and figures in the paper\'s order, each beside the published one '
            'where the paper has one. Tables are the CSVs under <code>tables/</code>; intervals are the run\'s '
            f'analysis.ci = {params["analysis"]["ci"]}.</p>', _verdict(run), _ledger(tables, sections),
            _endpoint(tables), _header(params, prov), f"<nav><ul>{nav}</ul></nav>"]
    body += [_section(s, k, tables, figures) for k, s in enumerate(sections)]
    pages = export_notebooks(run, out / "notebooks")
    links = "".join(f'<li><a href="notebooks/{p.name}">{html.esc(p.stem)}</a></li>' for p in pages)
    body.append(f'<h2 id="notebooks">The executed notebooks</h2><ul>{links}</ul>')
    return artifacts.write_text(out / "index.html", html.page(f"Run {run}: report", "".join(body)))
