"""The shape of the code that joins the stages (issue 14): ``localize`` is a short sequence
of stage calls, no function of the numeric and decision layers grows into a monolith,
and each score formula exists once."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "braincause"
#: packages whose functions are held to MAX_LINES
PACKAGES = ("pipeline", "evaluate", "stats", "scoring")
MAX_LINES = 80
LOCALIZE_MAX_LINES = 60


def _code_lines(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function without its docstring (signature included)."""
    n = fn.end_lineno - fn.lineno + 1
    first = fn.body[0] if fn.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and \
            isinstance(first.value.value, str):
        n -= first.end_lineno - first.lineno + 1
    return n


def _functions(pkg: str):
    for f in sorted((SRC / pkg).rglob("*.py")):
        for node in ast.walk(ast.parse(f.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield f.relative_to(SRC), node


def test_no_long_functions_in_the_joining_layers():
    long = [f"{f}:{n.lineno} {n.name} ({_code_lines(n)} lines)" for pkg in PACKAGES
            for f, n in _functions(pkg) if _code_lines(n) > MAX_LINES]
    assert not long, f"functions over {MAX_LINES} lines (docstring aside): {long}"


def test_localize_is_a_short_sequence_of_stage_calls():
    fns = [n for f, n in _functions("pipeline") if n.name == "localize"]
    assert len(fns) == 1
    assert _code_lines(fns[0]) <= LOCALIZE_MAX_LINES
    # it has no nested functions and no branching on the data source
    assert not [n for n in ast.walk(fns[0]) if isinstance(n, ast.FunctionDef)
                and n is not fns[0]]
    assert not [n for n in ast.walk(fns[0]) if isinstance(n, ast.Attribute)
                and n.attr == "real"]


def test_the_line_counter_sees_a_long_function(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES + 1))
    fn = ast.parse(f'def f():\n    """doc\n\n    more"""\n{body}\n').body[0]
    assert _code_lines(fn) == MAX_LINES + 2


@pytest.mark.parametrize("pattern, where", [
    (r"def (_?hard_mean|_topk_mean)\b", "the hardest-negatives mean"),
    (r"def (_?hardest_edit|_hardest_per_positive)\b", "the hardest edit"),
    (r"def (region_point_scores)\b", "the region point scores"),
    (r"def (region_average|_region_avgs)\b", "the region average"),
    (r"def (top_k)\b", "top-K"),
    (r"def (overlap|voxel_metrics)\b", "precision / recall / Dice"),
])
def test_each_formula_is_defined_once(pattern, where):
    hits = [f"{f.relative_to(SRC)}" for f in SRC.rglob("*.py")
            if re.search(pattern, f.read_text(encoding="utf-8"))]
    assert len(hits) == 1, f"{where} is defined in {hits}"
