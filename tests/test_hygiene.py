"""Code hygiene rules that keep results reproducible and safe."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "braincause"


def test_no_global_numpy_random_state():
    """Randomness goes through check_random_state / Generators, never numpy's global RNG."""
    bad = re.compile(r"np\.random\.(seed|rand|randn|randint|random|choice|shuffle|permutation|"
                     r"normal|uniform)\(")
    hits = [f"{p.relative_to(SRC)}:{i}" for p in SRC.rglob("*.py")
            for i, line in enumerate(p.read_text().splitlines(), 1) if bad.search(line)]
    assert not hits, f"global numpy RNG used at {hits}"


def test_no_stdlib_random_module():
    hits = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
            if re.search(r"^\s*(import random|from random import)", p.read_text(), re.M)]
    assert not hits, hits


def test_no_pickle_loading():
    hits = [str(p.relative_to(SRC)) for p in SRC.rglob("*.py")
            if re.search(r"pickle\.load|allow_pickle=True", p.read_text())]
    assert not hits, hits


def test_atomic_writes_get_normal_permissions(tmp_path):
    import os

    from braincause.utils import atomic_write_bytes

    p = atomic_write_bytes(tmp_path / "a" / "x.json", b"{}")
    umask = os.umask(0)
    os.umask(umask)
    assert p.read_bytes() == b"{}"
    assert (p.stat().st_mode & 0o777) == (0o666 & ~umask)
    assert not [f for f in p.parent.iterdir() if f.name.endswith(".tmp")]


# ------------------------------------------------------------------- import layering
def _lint_imports(cwd: Path, *args: str, pythonpath: Path | None = None):
    """Run import-linter (the `lint-imports` command) with the contracts of ``cwd``'s
    pyproject.toml, in a fresh interpreter so the package is found on ``pythonpath``."""
    import os
    import subprocess
    import sys

    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(pythonpath), env.get("PYTHONPATH")) if p)
    code = ("import sys; from importlinter.cli import lint_imports; "
            "sys.exit(lint_imports(no_cache=True, no_logo=True, "
            "limit_to_contracts=tuple(sys.argv[1:])))")
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def test_import_contracts_hold():
    """The layers, acyclic and private-module contracts of pyproject.toml all pass."""
    out = _lint_imports(SRC.parents[1], pythonpath=SRC.parent)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 broken" in out.stdout, out.stdout


def test_import_contract_catches_an_upward_import(tmp_path):
    """A planted upward import (scoring → pipeline) in a copy of the package breaks the
    layers contract, so the passing test above means something."""
    import shutil

    root = SRC.parents[1]
    shutil.copy(root / "pyproject.toml", tmp_path / "pyproject.toml")
    pkg = tmp_path / "src" / "braincause"
    shutil.copytree(SRC, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    scoring = pkg / "scoring" / "__init__.py"
    scoring.write_text(scoring.read_text() + "\n\ndef _planted():\n"
                       "    from braincause import pipeline  # upward: scoring sits below\n\n"
                       "    return pipeline\n")
    out = _lint_imports(tmp_path, "layers", pythonpath=tmp_path / "src")
    assert out.returncode == 1, out.stdout + out.stderr
    assert "BROKEN" in out.stdout, out.stdout
    assert "braincause.scoring -> braincause.pipeline" in out.stdout, out.stdout
