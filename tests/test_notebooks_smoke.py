"""Every notebook runs end to end through papermill on params/smoke.yaml, into a temporary outputs
directory, started the way Binder starts the demo: ``bash postBuild`` (the same runner as
`make reproduce`), with the ``python`` of the environment first on PATH and nothing of the
Makefile's; the runner stops at a failing cell."""

import json
import os
import subprocess
import sys

import nbformat
import pandas as pd
import pytest

from vlmrobust import paths, runner

pytestmark = pytest.mark.notebooks


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    """``postBuild`` as repo2docker runs it: from the repository root, ``python`` resolved on PATH
    (here: a folder whose only entry is this test's interpreter, which has the packages of
    environment.yml's pip section), no Makefile, no ``.venv``. repo2docker itself needs Docker."""
    out = tmp_path_factory.mktemp("smoke-outputs")
    bindir = tmp_path_factory.mktemp("env-bin")
    (bindir / "python").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bindir / "python").chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONHOME")}
    env.update({"PATH": f"{bindir}{os.pathsep}/usr/bin{os.pathsep}/bin", "VLMROBUST_OUTPUTS": str(out),
                "VLMROBUST_PARAMS": "params/smoke.yaml"})
    r = subprocess.run(["bash", "postBuild"], cwd=paths.ROOT, env=env, capture_output=True, text=True)
    return r.returncode, out / "smoke", r.stdout + r.stderr


def test_every_notebook_runs(smoke_run):
    status, run_dir, log = smoke_run
    assert status == 0, log[-3000:]
    assert "ok   params/smoke.yaml" in log and "report:" in log
    executed = sorted(p.name for p in (run_dir / "notebooks").glob("*.ipynb"))
    assert executed == sorted(p.name for p in runner.notebooks())


def test_provenance_is_recorded(smoke_run):
    _, run_dir, _ = smoke_run
    prov = json.loads((run_dir / "provenance.json").read_text())
    assert prov["run"] == "smoke" and prov["updated"]
    assert prov["params"]["benchmark"]["n"] == 4
    assert prov["packages"]["torch"].startswith("2.13.0")
    assert set(prov["notebooks"]) == {nb.stem for nb in runner.notebooks()}
    assert all(nb["status"] == "ok" and nb["params_hash"] == prov["params_hash"] for nb in prov["notebooks"].values())
    assert "commit" in prov["git"] and prov["platform"]["cores"] >= 1


def test_corruption_stage_outputs(smoke_run):
    _, run_dir, _ = smoke_run
    samples = pd.read_parquet(run_dir / "samples.parquet")
    manifest = pd.read_parquet(run_dir / "corruptions" / "manifest.parquet")
    assert len(samples) == 4 * 4
    assert len(manifest) == len(samples) * (1 + 4 * 2)  # clean + pilot x severities [1, 5]
    assert (run_dir / "figures" / "figure1_gaussian_noise.png").exists()
    assert (run_dir / "figures" / "corruptions_all19_sev3_sev5.png").exists()


def test_executed_notebook_has_outputs_and_injected_parameters(smoke_run):
    _, run_dir, _ = smoke_run
    nb = nbformat.read(run_dir / "notebooks" / "01_corruptions.ipynb", as_version=4)
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert injected and "params/smoke.yaml" in injected[0].source
    assert any(c.get("outputs") for c in nb.cells if c.cell_type == "code")


def test_runner_stops_at_first_failing_cell(tmp_path, monkeypatch, capsys):
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    for name, src in (("01_ok", "x = 1"), ("02_fails", "raise ValueError('boom in cell')"),
                      ("03_never", "y = 2")):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nb.cells = [nbformat.v4.new_code_cell("params_file = None", metadata={"tags": ["parameters"]}),
                    nbformat.v4.new_code_cell(src)]
        nbformat.write(nb, nbdir / f"{name}.ipynb")
    monkeypatch.setattr(paths, "NOTEBOOKS_DIR", nbdir)
    monkeypatch.setenv("VLMROBUST_OUTPUTS", str(tmp_path / "out"))
    status = runner.main(["--params", "params/smoke.yaml"])
    err = capsys.readouterr().err
    assert status == 1
    assert "02_fails.ipynb failed" in err and "boom in cell" in err
    done = sorted(p.name for p in (tmp_path / "out" / "smoke" / "notebooks").glob("*.ipynb"))
    assert done == ["01_ok.ipynb", "02_fails.ipynb"]


def test_paper_audit_outputs(smoke_run):
    _, run_dir, _ = smoke_run
    audit = pd.read_csv(run_dir / "tables" / "paper_audit.csv")
    assert (audit["status"] != "mismatch").all()
    for fig in ("paper_figure2_clean_accuracy", "paper_figure3_mce", "paper_figure4_radar", "paper_figure6_rel_mce"):
        assert (run_dir / "figures" / f"{fig}.png").exists()


def test_zoo_inference_and_scoring_outputs(smoke_run):
    _, run_dir, _ = smoke_run
    for stage in ("pt", "it", "po", "po-aug"):
        assert (run_dir / "zoo" / stage / "config.json").exists()
    goals = pd.read_csv(run_dir / "tables" / "zoo_goals.csv")
    assert len(goals) == 14 and goals.loc[goals["kind"] == "goal", "measured"].notna().all()
    ctl = pd.read_csv(run_dir / "tables" / "zoo_controls.csv")
    assert set(zip(ctl["pair"], ctl["control"])) == {("Z0", "negative"), ("Z2", "positive")}
    assert len(ctl) == 2 * 5 and (ctl["dataset"] == "pooled (4 tasks)").sum() == 2  # 4 tasks + the pooled row
    assert (ctl.loc[ctl["dataset"] == "pooled (4 tasks)", "n_items"] == 4 * ctl["n_items"].iloc[0]).all()
    lost = pd.read_csv(run_dir / "tables" / "zoo_accuracy_lost.csv")
    assert set(zip(lost["model"], lost["severity"])) == {(m, s) for m in ("it", "po", "po-aug") for s in (1, 5)}
    assert (lost["ci_lo"] <= lost["accuracy_lost"]).all() and (lost["accuracy_lost"] <= lost["ci_hi"]).all()
    planted = pd.read_csv(run_dir / "tables" / "zoo_planted_difference.csv")
    assert planted["contrast"].tolist() == ["po-aug - po"] * 2 and planted["severity"].tolist() == [1, 5]
    assert (planted["ci_lo"] <= planted["difference"]).all() and (planted["difference"] <= planted["ci_hi"]).all()
    preds = pd.concat(pd.read_parquet(f) for f in (run_dir / "predictions").glob("*/*/part-*.parquet"))
    n_items, n_conditions = 16, 1 + 4 * 2
    # concise for every dataset, plus plain for synth-vqa and synth-text (the demo's concise_datasets)
    per_model = n_items * n_conditions + 8 * n_conditions
    # mislead and truthful: every item (text_items null) at clean and severity 5 of the 4 corruptions
    per_model += 2 * n_items * (1 + 4)
    assert preds.groupby("model").size().to_dict() == {"zoo-it": per_model, "zoo-po": per_model, "zoo-pt": per_model,
                                                     "zoo-po-aug": per_model}
    text = preds[preds["prompt_variant"].isin(["mislead", "truthful"])]
    assert set(text["severity"]) == {0, 5} and text["claim"].notna().all()
    assert text["prompt"].str.contains("Caption: |Hint: the answer is ").all()
    scores = pd.read_parquet(run_dir / "scores.parquet")
    assert len(scores) == len(preds) and scores["score"].between(0, 1).all()
    for t in ("table2_clean_accuracy", "table3_mce_global_reference", "table4_relative_mce",
              "table5_ce_per_corruption", "table11_ce_per_pair", "relative_mce_bootstrap"):
        assert (run_dir / "tables" / f"{t}.csv").exists(), t
    t3 = pd.read_csv(run_dir / "tables" / "table3_mce_global_reference.csv", index_col=0)
    assert t3.loc["zoo-it", "macro_mce"] == pytest.approx(1.0)  # the reference against itself


def test_runner_skips_the_zoo_notebook_without_a_zoo(tmp_path, monkeypatch, capsys):
    import yaml

    p = yaml.safe_load((paths.PARAMS_DIR / "smoke.yaml").read_text())
    p["zoo"] = None
    f = tmp_path / "nozoo.yaml"
    f.write_text(yaml.safe_dump(p))
    nbdir = tmp_path / "notebooks"
    nbdir.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell("raise RuntimeError('should not run')")]
    nbformat.write(nb, nbdir / "00_demo_zoo.ipynb")
    monkeypatch.setattr(paths, "NOTEBOOKS_DIR", nbdir)
    monkeypatch.setenv("VLMROBUST_OUTPUTS", str(tmp_path / "out"))
    assert runner.main(["--params", str(f)]) == 0
    assert "00_demo_zoo skipped" in capsys.readouterr().out


def test_severity_and_ethics_outputs(smoke_run):
    _, run_dir, _ = smoke_run
    t6 = pd.read_csv(run_dir / "tables" / "table6_severity.csv")
    assert set(t6["severity"]) == {1, 5} and t6["arrow"].astype("string").fillna("").isin(["↑", "↓", ""]).all()
    scan = pd.read_csv(run_dir / "tables" / "severity_reversals.csv")
    assert len(scan) == 3 * 4 * 4  # pairs x datasets x pilot corruptions
    paper6 = pd.read_csv(run_dir / "tables" / "paper_table6_arrows.csv")
    assert paper6.loc[(paper6["corruption"] == "defocus_blur") & (paper6["severity"] == 5), "arrow"].item() == "↓"
    for t in ("severity_power", "ethics_endpoint", "ethics_endpoint_gee", "ethics_level", "ethics_mcnemar",
              "ethics_power", "ethics_mixed", "ethics_subgroups", "ethics_table2_granularity"):
        assert (run_dir / "tables" / f"{t}.csv").exists(), t
    ep = pd.read_csv(run_dir / "tables" / "ethics_endpoint.csv")
    fam = ep[ep["dataset"] != "pooled"]
    assert len(fam) == 3 * 4 and (fam["p_holm"] >= fam["p"] - 1e-12).all() and (ep["dataset"] == "pooled").sum() == 3
    mixed = pd.read_csv(run_dir / "tables" / "ethics_mixed.csv")
    assert list(mixed.columns[3:6]) == ["gee_coef", "gee_se", "gee_z"]  # the GEE leads
    fitted = mixed[mixed["vb_status"] == "ok"]  # item slopes in the mixed model wherever it fitted
    assert "vb_random" in mixed and fitted["vb_random"].astype(str).str.contains("item:aligned sd").all()
    for fig in ("figure5_severity_curves", "figure7_severity_pair", "severity_reversal_forest",
                "severity_power_curve", "ethics_endpoint", "ethics_mde_curves", "figure_ethics_subgroups"):
        assert (run_dir / "figures" / f"{fig}.png").exists(), fig


def _chromium() -> str:
    import os
    import shutil

    path = os.environ.get("CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "no chromium: `make test` installs it (tools/ensure-chromium), or set CHROMIUM=/path/to/chrome"
    return path


def test_report_opens_in_a_real_browser_with_every_image_and_link(smoke_run):
    """The run report, opened offline in headless Chromium: every image decodes, every link resolves,
    Table 4 stands beside the paper's; the screenshot is kept next to the report."""
    from urllib.parse import unquote, urlparse

    from playwright.sync_api import sync_playwright

    _, run_dir, _ = smoke_run
    index = run_dir / "report" / "index.html"
    assert index.exists()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        failed = []
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(index.as_uri())
        images = page.eval_on_selector_all("img", "els => els.map(e => [e.alt, e.complete && e.naturalWidth > 0])")
        links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        ids = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
        table4 = page.locator("h2", has_text="Table 4").first
        assert table4.count() == 1
        section = table4.evaluate("h => { let t = ''; for (let n = h.nextElementSibling; n && n.tagName !== 'H2';"
                                  " n = n.nextElementSibling) t += n.innerText; return t; }")
        page.screenshot(path=str(run_dir / "report" / "screenshot.png"))
        nb_page = next(link for link in links if link.startswith("notebooks/"))
        page.goto((index.parent / nb_page).as_uri())
        assert "03_scoring" in page.title() or page.locator("body").inner_text()
        browser.close()
    assert len(images) >= 15 and all(ok for _, ok in images), [alt for alt, ok in images if not ok]
    assert not failed, failed  # nothing the page asked for is missing (and it asks no network: no CDN)
    for link in links:
        if link.startswith("#"):
            assert link[1:] in ids, link
        else:
            assert urlparse(link).scheme == "" and (index.parent / unquote(link)).exists(), link
    assert "this run" in section.lower() and "The paper's Table 4" in section and "rel_mce_ratio" in section
    assert (run_dir / "report" / "screenshot.png").stat().st_size > 10_000


def test_probit_outputs(smoke_run):
    _, run_dir, _ = smoke_run
    fits = pd.read_csv(run_dir / "tables" / "probit_fits.csv")
    assert len(fits) == 4 * (4 * 2 + 4 + 1)  # datasets x (corruption x severity + corruptions + all)
    paper_pts = pd.read_csv(run_dir / "tables" / "paper_probit_points.csv")
    assert len(paper_pts) == 8 and paper_pts["er"].notna().all()
    for fig in ("figure_probit_all", "figure_probit_paper"):
        assert (run_dir / "figures" / f"{fig}.png").exists(), fig


def test_prediction_structure_outputs(smoke_run):
    _, run_dir, _ = smoke_run
    summ = pd.read_csv(run_dir / "tables" / "table_ras_summary.csv")
    assert set(summ["model"]) == {"zoo-pt", "zoo-it", "zoo-po", "zoo-po-aug"} and summ["ras"].dropna().between(-2, 1).all()
    assert summ.loc[summ["weighting"] == "unweighted", "ras"].notna().all()  # kappa-weighted: NaN when all kappa = 0
    assert set(summ["weighting"]) == {"unweighted", "kappa-weighted"}
    assert len(pd.read_csv(run_dir / "tables" / "ras_pair_contrast.csv")) >= 2
    for fig in ("figure_ras_quadrants", "figure_ras_destructive_corrective", "figure_kappa_hist"):
        assert (run_dir / "figures" / f"{fig}.png").exists(), fig


def test_format_confound_outputs(smoke_run):
    _, run_dir, _ = smoke_run
    comp = pd.read_csv(run_dir / "tables" / "format_compliance.csv")
    # 4 models; plain only on synth-vqa and synth-text; 9 conditions each
    assert len(comp) == 4 * (4 + 2) * 9 and comp["comp_text"].between(0, 1).all()
    assert (comp["ci_lo"] <= comp["comp_text"] + 1e-12).all() and (comp["comp_text"] <= comp["ci_hi"] + 1e-12).all()
    ab = pd.read_csv(run_dir / "tables" / "verbosity_ab.csv")
    assert set(ab["dataset"]) == {"synth-vqa", "synth-text"} and set(ab["pair"]) == {"Z0", "Z1", "Z2"}
    sens = pd.read_csv(run_dir / "tables" / "denominator_sensitivity.csv")
    assert len(sens) == 3 * 4 * 4 and sens["headroom_b"].between(0, 1).all()
    fc = pd.read_csv(run_dir / "tables" / "rel_mce_format_controlled.csv")
    # standard and joint-compliant for every pair and dataset, logit for the MCQ set
    assert len(fc) == 3 * (4 * 2 + 1) and set(fc["view"]) == {"standard", "joint_compliant", "logit"}
    for fig in ("figure_confound_compliance", "figure_confound_verbosity", "figure_confound_denominator"):
        assert (run_dir / "figures" / f"{fig}.png").exists(), fig


def test_text_perturbation_outputs(smoke_run):
    _, run_dir, _ = smoke_run
    eff = pd.read_csv(run_dir / "tables" / "text_perturbation.csv")
    # 4 models x 4 datasets x (clean, 4 corruptions, pooled); every row compares 4 items
    assert len(eff) == 4 * 4 * 6 and (eff.loc[eff["image"] == "clean", "n"] == 4).all()
    assert eff["adopt_mislead"].between(0, 1).all()
    inter = pd.read_csv(run_dir / "tables" / "text_interaction.csv")
    assert len(inter) == 4 * 5 * 2  # 4 models x (4 datasets and their pool) x 2 references (truthful, none)
    assert inter["reference"].str.split().str[0].value_counts().to_dict() == {"truthful": 20, "none": 20}
    assert (inter["int"] - ((inter["A11"] - inter["A10"]) - (inter["A01"] - inter["A00"]))).abs().max() < 1e-9
    assert len(pd.read_csv(run_dir / "tables" / "text_three_way.csv")) == 3 * 5 * 2
    assert (run_dir / "figures" / "figure_text_2x2.png").exists()


def test_safety_outputs(smoke_run):
    """Notebook 11 on 8 safety items (4 twin pairs), 2 corruptions at severity 5, clean and blank."""
    _, run_dir, _ = smoke_run
    labels = pd.read_parquet(run_dir / "safety" / "labels.parquet")
    # 4 models x (8 items x 3 conditions + 1 blank harm-in-the-image item)
    assert len(labels) == 4 * (8 * 3 + 1) and set(labels["label"]) <= {"refuse", "inability", "comply"}
    assert set(labels.loc[labels["corruption"] == "blank", "item_type"]) == {"harm_image"}
    sce = pd.read_csv(run_dir / "tables" / "safety_sce_severity.csv")
    assert set(sce["corruption"]) == {"gaussian_noise", "defocus_blur", "all"} and set(sce["pair"]) == {"Z0", "Z1", "Z2"}
    assert (sce["dsce"] - (sce["sce_aligned"] - sce["sce_base"])).abs().max() < 1e-9  # paired over the same items
    clean = pd.read_csv(run_dir / "tables" / "safety_clean.csv")
    assert set(clean["model"]) == {"zoo-pt", "zoo-it", "zoo-po", "zoo-po-aug"}
    assert len(pd.read_csv(run_dir / "tables" / "safety_goals.csv")) == 5
    ctl = pd.read_csv(run_dir / "tables" / "safety_controls.csv")
    assert ctl["control"].str.contains("Z2 \\(positive control\\)").any() and ctl["control"].str.contains("blank").any()
    for fig in ("safety_items", "safety_refusal_by_severity", "safety_rr_orr", "safety_dsce_forest"):
        assert (run_dir / "figures" / f"{fig}.png").exists(), fig
    ledger = pd.read_csv(run_dir / "tables" / "claims.csv")
    ext = ledger[ledger["id"].str.startswith("X-safety-")]
    assert sorted(ext["id"]) == ["X-safety-Z0", "X-safety-Z1", "X-safety-Z2"]
    assert (ext["paper_status"] == "not testable here").all() and (ext["run_status"] != "not testable here").all()
