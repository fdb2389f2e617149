"""The library's shape: one-way imports, small modules, every module documented in the package.

Why: a circle of imports hides inside functions until someone moves one; ``params`` (which
every stage and ``make check-params`` load) must stay free of torch, the zoo and inference so
that a bad params file fails in about a second.
"""

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

LIB = Path(__file__).resolve().parents[1] / "lib" / "vlmrobust"
README = LIB.parents[1] / "README.md"


def _module_name(path: Path) -> str:
    rel = path.relative_to(LIB.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


MODULES = {_module_name(p): p for p in LIB.rglob("*.py")}


def _resolve(importer: str, is_package: bool, node) -> list[str]:
    """The vlmrobust modules an import statement loads (function-level imports included)."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.startswith("vlmrobust")]
    if node.level:
        base = importer.split(".") if is_package else importer.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        mod = ".".join(base + ([node.module] if node.module else []))
    else:
        mod = node.module or ""
    if not mod.startswith("vlmrobust"):
        return []
    out = []
    for a in node.names:
        sub = f"{mod}.{a.name}"
        out.append(sub if sub in MODULES else mod)
    return out


def import_graph() -> dict[str, set[str]]:
    graph = {}
    for name, path in MODULES.items():
        deps = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                deps.update(_resolve(name, path.name == "__init__.py", node))
        # a package's own submodules and its parents are loaded by Python itself, not a design choice
        graph[name] = {d for d in deps if d != name and not name.startswith(d + ".")}
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state, stack = {}, []

    def visit(n):
        state[n] = "open"
        stack.append(n)
        for d in sorted(graph.get(n, ())):
            if state.get(d) == "open":
                return stack[stack.index(d):] + [d]
            if d not in state:
                found = visit(d)
                if found:
                    return found
        state[n] = "done"
        stack.pop()
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def test_the_graph_sees_function_level_imports():
    g = import_graph()
    assert "vlmrobust.zoo.config" in g["vlmrobust.zoo.training"]
    assert "vlmrobust.design" in g["vlmrobust.params"]  # params.main imports it inside the function


def test_no_import_cycle_anywhere_in_the_library():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_cycle_finder_finds_a_planted_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def _closure(graph, start):
    seen, todo = set(), [start]
    while todo:
        n = todo.pop()
        for d in graph.get(n, ()):
            if d not in seen:
                seen.add(d)
                todo.append(d)
    return seen


def test_params_imports_neither_the_zoo_nor_inference():
    """params reads the zoo's recipe from its leaf config module, and nothing else of the zoo."""
    reach = _closure(import_graph(), "vlmrobust.params")
    assert "vlmrobust.zoo.config" in reach
    bad = sorted(m for m in reach if m.startswith(("vlmrobust.zoo", "vlmrobust.inference", "vlmrobust.models"))
                 and m != "vlmrobust.zoo.config")
    assert not bad, f"vlmrobust.params reaches {bad}"


def test_the_zoo_package_imports_its_modules_lazily():
    """``vlmrobust.zoo`` re-exports its modules' names without importing them (so that params can read
    ``zoo.config``), and every re-exported name resolves."""
    import vlmrobust.zoo as zoo

    assert import_graph()["vlmrobust.zoo"] == set()
    for name in zoo.__all__:
        assert getattr(zoo, name) is not None
    assert zoo.training.train is zoo.train


def test_zoo_config_is_a_leaf():
    assert import_graph()["vlmrobust.zoo.config"] == set()
    tree = ast.parse(MODULES["vlmrobust.zoo.config"].read_text())
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert names <= set(sys.stdlib_module_names) | {"__future__"}


def test_loading_params_pulls_in_no_torch():
    code = ("import sys, vlmrobust.params as p; p.load('params/demo.yaml'); "
            "print(sorted(m for m in sys.modules if m in ('torch', 'transformers') or "
            "m.startswith(('vlmrobust.zoo', 'vlmrobust.inference'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=LIB.parents[1])
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "['vlmrobust.zoo', 'vlmrobust.zoo.config']"  # the recipe's home, no more


@pytest.mark.parametrize("name", sorted(MODULES), ids=lambda n: n)
def test_no_module_is_over_400_lines(name):
    n = len(MODULES[name].read_text().splitlines())
    assert n <= 400, f"{MODULES[name]} has {n} lines; split it by concept"


def _readme_library_block() -> str:
    """The README's fenced block that lists the library's modules (the one that starts with ``paths``)."""
    blocks, current = [], None
    for line in README.read_text().splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("\n".join(current))
                current = None
        elif current is not None:
            current.append(line)
    found = [b for b in blocks if b.lstrip().startswith("paths ")]
    assert len(found) == 1, "the README has no (or several) library layout blocks starting with 'paths'"
    return found[0]


def test_every_module_is_listed_with_its_purpose():
    """``vlmrobust/__init__.py`` and the README's library block list every top-level module and package,
    each followed by what it is for (a name in ordinary prose does not count)."""
    top = sorted({n.split(".")[1] for n in MODULES if n.count(".") >= 1})
    init_doc = ast.get_docstring(ast.parse((LIB / "__init__.py").read_text()))
    block = _readme_library_block()
    for name in top:
        assert re.search(rf"``{name}``\s+\S", init_doc), f"{name} is not described in vlmrobust/__init__.py"
        assert re.search(rf"(^|\s{{2}}){name}/?\s{{2,}}\S", block, re.M), f"{name} is not in the README's library block"


def test_the_library_block_check_ignores_prose(monkeypatch, tmp_path):
    fake = tmp_path / "README.md"
    fake.write_text("The params file and the zoo are mentioned here in prose.\n\n```\npaths  where things live\n```\n")
    monkeypatch.setattr(sys.modules[__name__], "README", fake)
    block = _readme_library_block()
    assert re.search(r"(^|\s{2})paths/?\s{2,}\S", block, re.M)
    assert not re.search(r"(^|\s{2})params/?\s{2,}\S", block, re.M)


def test_the_report_depends_on_the_analyses_never_the_reverse():
    reach = _closure(import_graph(), "vlmrobust.analyses")
    assert not any(m.startswith("vlmrobust.report") for m in reach), sorted(m for m in reach if "report" in m)
