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
