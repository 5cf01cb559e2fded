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
