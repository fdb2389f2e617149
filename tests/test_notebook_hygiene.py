"""Notebooks stay diffable: no committed outputs, .ipynb in sync with its py:percent pair, a
one-line parameters cell (the params file, and optional overrides); the library is tracked by git."""

import subprocess

import jupytext
import nbformat
import pytest

from vlmrobust import paths

NOTEBOOKS = sorted(paths.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_committed_notebook_has_no_outputs(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{nb_path.name}: cells {dirty} carry outputs; clear them (make sync)"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_matches_its_py_percent_pair(nb_path):
    script = nb_path.with_suffix(".py")
    assert script.exists(), f"{nb_path.name} has no py:percent pair"
    a = jupytext.read(nb_path)
    b = jupytext.read(script)
    cells_a = [(c.cell_type, c.source.strip()) for c in a.cells]
    cells_b = [(c.cell_type, c.source.strip()) for c in b.cells]
    assert cells_a == cells_b, f"{nb_path.name} drifted from {script.name}; run `make sync`"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_code_cell_compiles_on_this_python(nb_path):
    """A syntax error (say, a backslash inside an f-string's braces, legal only from Python 3.12)
    would otherwise surface minutes into `make reproduce`, after the expensive stages."""
    nb = nbformat.read(nb_path, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            compile(source, f"{nb_path.name}[cell {i}]", "exec")
        except SyntaxError as err:
            pytest.fail(f"{nb_path.name}, cell {i}: {err}")


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_parameters_cell_names_the_params_file_and_nothing_else(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(cells) == 1, f"{nb_path.name}: expected one cell tagged 'parameters'"
    ns: dict = {}
    exec(cells[0].source, ns)  # noqa: S102 - our own notebook's literal assignments
    assert {k for k in ns if not k.startswith("__")} == {"params_file", "overrides"}
    assert ns["params_file"] == "params/demo.yaml" and ns["overrides"] == {}
    code = [ln for ln in cells[0].source.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert len(code) == 2, f"{nb_path.name}: the parameters cell should be two lines, not {len(code)}"
    assert nb.metadata["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("nb_path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_loads_its_params_through_the_library(nb_path):
    src = nb_path.with_suffix(".py").read_text()
    assert "vr.params.load(params_file, overrides)" in src


def test_a_notebook_with_outputs_is_detected(tmp_path):
    """The check above is real: a notebook with an output fails it."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 + 1", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=1)]
    nb.cells.append(cell)
    p = tmp_path / "00_x.ipynb"
    nbformat.write(nb, p)
    with pytest.raises(AssertionError, match="carry outputs"):
        test_committed_notebook_has_no_outputs(p)


def test_library_is_not_gitignored():
    r = subprocess.run(["git", "check-ignore", "-q", "lib/vlmrobust/__init__.py"], cwd=paths.ROOT)
    assert r.returncode == 1, "lib/ is git-ignored (a Python .gitignore template ignores lib/)"
