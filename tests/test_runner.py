"""The runner checks a stage's inputs before it starts a kernel: out of order, it says what to run first."""

import pytest

from vlmrobust import artifacts, runner


@pytest.fixture
def fresh_outputs(tmp_path, monkeypatch):
    monkeypatch.setenv("VLMROBUST_OUTPUTS", str(tmp_path))
    return tmp_path


def test_scoring_on_a_fresh_run_says_to_run_inference_first(fresh_outputs, capsys):
    assert runner.main(["--params", "params/smoke.yaml", "--only", "03"]) == 2
    err = capsys.readouterr().err
    assert "03_scoring cannot run yet" in err
    assert "run 02_inference (`make inference PARAMS=smoke`) first" in err
    assert "run 01_corruptions (`make corruptions PARAMS=smoke`) first" in err
    assert not (fresh_outputs / "smoke" / "notebooks").exists()  # no kernel was started


def test_inference_needs_corruptions_and_the_zoo(fresh_outputs):
    missing = artifacts.missing_inputs("demo", "02_inference", has_zoo=True)
    assert len(missing) == 3 and any("00_demo_zoo (`make zoo`)" in m for m in missing)
    assert len(artifacts.missing_inputs("demo", "02_inference", has_zoo=False)) == 2  # hub models: no zoo
    (fresh_outputs / "demo" / "corruptions").mkdir(parents=True)
    for name in (artifacts.SAMPLES, artifacts.MANIFEST, artifacts.ZOO):
        (fresh_outputs / "demo" / name).parent.mkdir(parents=True, exist_ok=True)
        (fresh_outputs / "demo" / name).write_text("x")
    assert artifacts.missing_inputs("demo", "02_inference", has_zoo=True) == []
    assert artifacts.missing_inputs("demo", "01_corruptions", has_zoo=True) == []  # reads nothing


def test_atomic_writer_leaves_no_temporary_file(tmp_path):
    p = artifacts.write_text(tmp_path / "a" / "b.txt", "hello")
    assert p.read_text() == "hello" and [f.name for f in p.parent.iterdir()] == ["b.txt"]


def test_provenance_keeps_every_notebooks_last_execution(tmp_path, monkeypatch):
    import json

    from vlmrobust import params, provenance

    monkeypatch.setenv("VLMROBUST_OUTPUTS", str(tmp_path))
    p = params.load("params/smoke.yaml")
    provenance.record("smoke", p, "params/smoke.yaml", {"notebook": "00_demo_zoo", "status": "ok", "seconds": 9.0})
    provenance.record("smoke", p, "params/smoke.yaml", {"notebook": "02_inference", "status": "ok", "seconds": 3.0})
    provenance.record("smoke", p, "params/smoke.yaml", {"notebook": "02_inference", "status": "FAILED", "seconds": 1.0})
    prov = json.loads((tmp_path / "smoke" / "provenance.json").read_text())
    assert set(prov["notebooks"]) == {"00_demo_zoo", "02_inference"}  # the zoo's entry survives a later stage
    assert prov["notebooks"]["00_demo_zoo"]["seconds"] == 9.0 and prov["notebooks"]["02_inference"]["status"] == "FAILED"
    assert prov["notebooks"]["02_inference"]["params_hash"] == provenance.params_hash(p)


def test_provenance_names_the_cpu_and_its_vector_features(tmp_path, monkeypatch):
    """Float results differ between CPU kinds, so a run records which it ran on, read from /proc/cpuinfo."""
    import json

    from vlmrobust import params, provenance

    monkeypatch.setenv("VLMROBUST_OUTPUTS", str(tmp_path))
    monkeypatch.setattr(provenance, "cpu_flags", lambda: {"fpu", "avx2", "avx512f"})
    monkeypatch.setattr(provenance, "cpu_model", lambda: "Intel(R) Xeon(R) Platinum 8488C")
    provenance.record("smoke", params.load("params/smoke.yaml"), "params/smoke.yaml")
    cpu = json.loads((tmp_path / "smoke" / "provenance.json").read_text())["platform"]
    assert cpu["cpu"] == "Intel(R) Xeon(R) Platinum 8488C"
    assert cpu["cpu_features"]["avx512f"] is True and cpu["cpu_features"]["avx512_bf16"] is False
    line = provenance.describe_cpu()
    assert line.startswith("Intel(R) Xeon(R) Platinum 8488C") and "AVX512-BF16 no" in line


def test_progress_in_lines_mode_writes_few_plain_lines(monkeypatch, capfd):
    from vlmrobust import progress

    monkeypatch.setenv(progress.ENV, "lines")
    monkeypatch.setenv(progress.INTERVAL_ENV, "3600")
    for _ in progress.bar(range(1000), desc="work"):
        pass
    err = capfd.readouterr().err
    lines = [ln for ln in err.splitlines() if "work" in ln]
    assert "\r" not in err and 1 <= len(lines) <= 3 and "1000/1000" in lines[-1]


def test_runner_picks_lines_mode_off_a_terminal(monkeypatch):
    import io

    from vlmrobust import progress

    monkeypatch.delenv(progress.ENV, raising=False)
    assert progress.configure_for(io.StringIO()) == "lines"


@pytest.fixture
def fake_kernels(fresh_outputs, monkeypatch):
    """The runner with its kernels replaced by a recorder: which notebooks did a run execute?"""
    from vlmrobust import report

    executed = []

    def fake_execute(nb, out, params_file, log_output=False, timeout=None):
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("{}")
        executed.append(nb.stem[:2])

    monkeypatch.setattr(runner, "execute", fake_execute)
    monkeypatch.setattr(report, "build", lambda run, p: "report")
    monkeypatch.setattr(artifacts, "missing_inputs", lambda run, stem, has_zoo: [])  # no real artifacts here
    return executed


def test_a_rerun_skips_unchanged_notebooks_and_redoes_everything_after_a_change(fake_kernels, monkeypatch, capsys):
    from vlmrobust import fingerprint

    everything = [nb.stem[:2] for nb in runner.notebooks()]
    assert runner.main(["--params", "params/smoke.yaml"]) == 0 and fake_kernels == everything
    fake_kernels.clear()
    assert runner.main(["--params", "params/smoke.yaml"]) == 0 and fake_kernels == []
    assert capsys.readouterr().out.count("not re-run") == len(everything)

    real = fingerprint.notebook_fingerprints
    edited = lambda nbs, p: {k: v + ("x" if k.startswith("05") else "") for k, v in real(nbs, p).items()}
    monkeypatch.setattr(fingerprint, "notebook_fingerprints", edited)  # as if notebook 05 were edited
    assert runner.main(["--params", "params/smoke.yaml"]) == 0
    assert fake_kernels == [s for s in everything if s >= "05"]  # 05 and every later one, nothing before

    fake_kernels.clear()
    assert runner.main(["--params", "params/smoke.yaml", "--force"]) == 0 and fake_kernels == everything
    fake_kernels.clear()
    assert runner.main(["--params", "params/smoke.yaml", "--only", "03"]) == 0 and fake_kernels == ["03"]


def test_a_failed_or_deleted_notebook_runs_again(fake_kernels, fresh_outputs):
    from vlmrobust import params, provenance

    assert runner.main(["--params", "params/smoke.yaml"]) == 0
    fake_kernels.clear()
    (fresh_outputs / "smoke" / "notebooks" / "07_ethics_stats.ipynb").unlink()
    assert runner.main(["--params", "params/smoke.yaml"]) == 0 and fake_kernels[0] == "07"
    fake_kernels.clear()
    entry = provenance.last_executions("smoke")["02_inference"]
    provenance.record("smoke", params.load("params/smoke.yaml"), "params/smoke.yaml", {**entry, "status": "FAILED"})
    assert runner.main(["--params", "params/smoke.yaml"]) == 0 and fake_kernels[0] == "02"


def test_the_fingerprint_follows_the_library_and_earlier_notebooks(tmp_path):
    from vlmrobust import fingerprint, params

    (tmp_path / "a.py").write_text("x = 1")
    before = fingerprint.library_hash(tmp_path)
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "a.cpython-311.pyc").write_bytes(b"\0")
    assert fingerprint.library_hash(tmp_path) == before  # caches do not count
    (tmp_path / "a.py").write_text("x = 2")
    assert fingerprint.library_hash(tmp_path) != before

    nbs = [tmp_path / f"{i:02d}_nb.ipynb" for i in range(3)]
    for nb in nbs:
        nb.write_text(nb.name)
    p = params.load("params/smoke.yaml")
    first = fingerprint.notebook_fingerprints(nbs, p)
    nbs[1].write_text("edited")
    second = fingerprint.notebook_fingerprints(nbs, p)
    assert first["00_nb"] == second["00_nb"] and first["01_nb"] != second["01_nb"] and first["02_nb"] != second["02_nb"]
    assert fingerprint.notebook_fingerprints(nbs, {**p, "seed": p["seed"] + 1})["00_nb"] != second["00_nb"]


def test_a_table_a_notebook_stops_writing_is_removed_and_never_published(fresh_outputs, monkeypatch, tmp_path):
    """Tables are owned by the notebook that wrote them: renaming a table in a notebook must not
    leave the old name behind to be published or compared as if the run had written it."""
    import pandas as pd

    from vlmrobust import report, verify

    writes = {"07": ["ethics_old", "ethics_keep"]}

    def fake_execute(nb, out, params_file, log_output=False, timeout=None):
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("{}")
        for name in writes.get(nb.stem[:2], []):
            artifacts.write_table(pd.DataFrame({"x": [1]}), "smoke", name)

    monkeypatch.setattr(runner, "execute", fake_execute)
    monkeypatch.setattr(report, "build", lambda run, p: "report")
    monkeypatch.setattr(artifacts, "missing_inputs", lambda run, stem, has_zoo: [])
    tables = fresh_outputs / "smoke" / "tables"
    assert runner.main(["--params", "params/smoke.yaml"]) == 0
    assert artifacts.current_tables("smoke") == ["ethics_keep", "ethics_old"]

    artifacts.write_table(pd.DataFrame({"x": [1]}), "smoke", "from_older_code")  # written by no notebook
    assert "from_older_code" not in artifacts.current_tables("smoke")
    writes["07"] = ["ethics_new", "ethics_keep"]  # the notebook renames a table
    assert runner.main(["--params", "params/smoke.yaml", "--only", "07"]) == 0
    assert not any((tables / f"ethics_old{ext}").exists() for ext in artifacts.TABLE_FORMATS)
    assert artifacts.current_tables("smoke") == ["ethics_keep", "ethics_new"]

    artifacts.write_parquet(pd.DataFrame({"model": ["m"], "dataset": ["X"], "sample_id": ["1"], "corruption": ["none"],
                                          "severity": [0], "prompt_variant": ["concise"], "response": ["a"],
                                          "score": [1.0]}), fresh_outputs / "smoke" / artifacts.SCORES)
    dest = verify.publish("smoke", tmp_path / "published")
    assert sorted(p.stem for p in (dest / "tables").glob("*.csv")) == ["ethics_keep", "ethics_new"]
    compared = verify.compare_tables(dest / "tables", tables, artifacts.current_tables("smoke"))
    assert set(compared["table"]) == {"ethics_keep", "ethics_new"}
