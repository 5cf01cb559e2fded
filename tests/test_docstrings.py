"""numpydoc docstrings for every name in a public ``__all__``.

Every public module of the package (no path component starting with ``_``) that defines
``__all__`` is imported; every function, class and public method it exports must have a
docstring that numpydoc parses, with

* a ``Parameters`` section naming each parameter other than ``self``/``cls``, and no
  parameter the signature does not have (``*args, **kwargs`` may be grouped on one line);
  for a class, its constructor's parameters, in the class or the ``__init__`` docstring
  (a record -- a dataclass or a NamedTuple, whose parameters are its fields -- may list
  them under ``Attributes`` instead, as numpydoc does for public attributes);
* a ``Returns`` (or ``Yields``) section when the function returns something: a return
  annotation other than ``None``, or, without one, a ``return <value>`` / ``yield`` in its
  body. Properties are described by their docstring's summary and need neither.

Shapes are written in scikit-learn's vocabulary, ``ndarray of shape (n_images, n_voxels)``
(checked: a shape in a parameter's or a return's type follows ``of shape``).
One test per exported object: a re-exported one is checked once, named after the module
that defines it when that module exports it, else after its shortest public path.

Parameter names are checked too (one seed argument name, see ``test_seed_argument_name``).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import importlib
import inspect
import pkgutil
import re
import textwrap
import warnings
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import pytest
from numpydoc.docscrape import NumpyDocString

import braincause


class Item(NamedTuple):
    path: str  # the public dotted path the test is named after
    obj: Any
    kind: str  # "function", "class", "method", "property", "import-error"


def _public_modules() -> Iterator[tuple[str, Any]]:
    """(name, module or exception) for braincause and every public submodule."""
    yield "braincause", braincause
    for info in pkgutil.walk_packages(braincause.__path__, "braincause."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue
        try:
            yield info.name, importlib.import_module(info.name)
        except Exception as exc:  # a module that does not import fails its own test
            yield info.name, exc


def _defined_here(obj: Any) -> bool:
    return (getattr(obj, "__module__", None) or "").split(".")[0] == "braincause"


def _members(cls: type, path: str) -> Iterator[Item]:
    """Public methods and properties defined in ``cls`` itself (not inherited)."""
    fields = {f.name for f in dataclasses.fields(cls)} if dataclasses.is_dataclass(cls) else set()
    for name, raw in vars(cls).items():
        if name.startswith("_") or name in fields:
            continue
        if isinstance(raw, property):
            yield Item(f"{path}.{name}", raw.fget, "property")
        elif isinstance(raw, functools.cached_property):
            yield Item(f"{path}.{name}", raw.func, "property")
        elif isinstance(raw, (staticmethod, classmethod)):
            yield Item(f"{path}.{name}", raw.__func__, "method")
        elif inspect.isfunction(raw):
            yield Item(f"{path}.{name}", raw, "method")


def _items() -> list[Item]:
    seen: dict[int, Item] = {}
    out: list[Item] = []
    modules = sorted(_public_modules(), key=lambda m: (m[0].count("."), m[0]))
    for modname, mod in modules:
        if isinstance(mod, Exception):
            out.append(Item(modname, mod, "import-error"))
            continue
        for name in getattr(mod, "__all__", ()):
            try:
                obj = getattr(mod, name)
            except Exception as exc:
                out.append(Item(f"{modname}.{name}", exc, "import-error"))
                continue
            if inspect.ismodule(obj) or not _defined_here(obj) or id(obj) in seen:
                continue
            if inspect.isclass(obj):
                kind = "class"
            elif inspect.isfunction(obj):
                kind = "function"
            else:  # constants, type aliases, instances: no docstring of their own
                continue
            seen[id(obj)] = Item(f"{modname}.{name}", obj, kind)
    # an object is named after the module that defines it when that module exports it,
    # else after the shortest public path that does
    homes = {modname: set(getattr(mod, "__all__", ())) for modname, mod in modules
             if not isinstance(mod, Exception)}
    for item in seen.values():
        home, name = item.obj.__module__, item.obj.__name__
        if name in homes.get(home, ()):
            item = item._replace(path=f"{home}.{name}")
        out.append(item)
        if item.kind == "class":
            out.extend(_members(item.obj, item.path))
    return out


ITEMS = _items()


# ------------------------------------------------------------------------ the checks
def _parse(doc: str) -> NumpyDocString:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unknown section or a bad layout is an error
        return NumpyDocString(doc)


def _documented(doc: NumpyDocString, section: str = "Parameters") -> set[str]:
    names: set[str] = set()
    for p in doc[section]:
        for n in p.name.split(","):
            names.add(n.strip().lstrip("*"))
    return names - {""}


_TUPLE = re.compile(r"\(\s*(\w+(?:\s*,\s*\w+)*)\s*,?\s*\)")
_TYPE_NAMES = {"str", "int", "float", "bool", "bytes", "complex", "object", "None", "Path",
               "ndarray", "dict", "list", "tuple"}


def _shape_style(doc: NumpyDocString) -> list[str]:
    """Shapes not written scikit-learn's way (``ndarray of shape (n_images, n_voxels)``)."""
    bad = []
    for section in ("Parameters", "Returns", "Yields", "Attributes"):
        for p in doc[section]:
            for m in _TUPLE.finditer(p.type):
                dims = [d.strip() for d in m.group(1).split(",")]
                if all(d in _TYPE_NAMES for d in dims):
                    continue  # a tuple of types, not a shape
                before = p.type[: m.start()]
                if re.search(r"\w$", before):
                    continue  # a call such as "min(k, n_candidates)"
                before = before.rstrip()
                if before.endswith("of shape") or (before.endswith(" or")
                                                   and "of shape" in before):
                    continue  # "of shape (a, b)", "of shape (a,) or (a, b)"
                bad.append(f"{p.name or section}: {p.type!r}")
    return bad


def _parameters(sig: inspect.Signature) -> list[str]:
    return [p.name for p in sig.parameters.values() if p.name not in ("self", "cls")]


def _constructor(cls: type) -> Callable | None:
    """The ``__init__`` or ``__new__`` whose parameters a call ``cls(...)`` takes, when
    braincause defines it (a dataclass's generated one included); None otherwise (an
    exception or a Protocol keeps its base class's constructor)."""
    if getattr(cls, "_is_protocol", False):
        return None
    for base in cls.__mro__:
        for attr in ("__init__", "__new__"):
            if attr in vars(base):
                fn = vars(base)[attr]
                return getattr(fn, "__func__", fn) if _defined_here(base) else None
    return None


def _returns_something(fn: Callable) -> bool:
    ann = inspect.signature(fn, eval_str=False).return_annotation
    if ann is not inspect.Signature.empty:
        return ann not in (None, "None", "NoReturn", "Never") and ann is not type(None)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return False
    body = tree.body[0]

    def scan(node: ast.AST) -> bool:
        for ch in ast.iter_child_nodes(node):
            if isinstance(ch, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                continue
            if isinstance(ch, ast.Return) and ch.value is not None:
                return True
            if isinstance(ch, (ast.Yield, ast.YieldFrom)):
                return True
            if scan(ch):
                return True
        return False

    return scan(body)


def problems(item: Item) -> list[str]:
    """What is missing from ``item``'s docstring (empty when it is complete)."""
    obj, kind = item.obj, item.kind
    raw = obj.__doc__
    if kind == "class" and raw and (dataclasses.is_dataclass(obj) or issubclass(obj, tuple)) \
            and raw.startswith(f"{obj.__name__}("):
        raw = None  # the signature dataclass / namedtuple writes in place of a missing one
    if not raw or not raw.strip():
        return ["no docstring"]
    try:
        doc = _parse(inspect.cleandoc(raw))
    except Exception as exc:
        return [f"numpydoc cannot parse the docstring: {exc}"]
    out: list[str] = []
    shapes = _shape_style(doc)
    if shapes:
        out.append("shapes not written 'ndarray of shape (n_a, n_b)': " + "; ".join(shapes))
    if kind == "property":
        return out
    attributes: set[str] = set()
    if kind == "class":
        init = _constructor(obj)
        if init is None:
            return out
        try:
            params = _parameters(inspect.signature(obj))
        except (TypeError, ValueError):
            return out
        documented = _documented(doc)
        if dataclasses.is_dataclass(obj) or hasattr(obj, "_fields"):
            attributes = _documented(doc, "Attributes")  # a record's fields
        if init.__name__ == "__init__" and init.__doc__:
            try:
                documented |= _documented(_parse(inspect.cleandoc(init.__doc__)))
            except Exception as exc:
                out.append(f"numpydoc cannot parse __init__'s docstring: {exc}")
    else:
        try:
            params = _parameters(inspect.signature(obj))
        except (TypeError, ValueError):
            return out
        documented = _documented(doc)
        if _returns_something(obj) and not (doc["Returns"] or doc["Yields"]):
            out.append("it returns a value but has no Returns (or Yields) section")
    if params and not doc["Parameters"] and kind != "class":
        out.append(f"no Parameters section (parameters: {', '.join(params)})")
    else:
        missing = [p for p in params if p not in documented | attributes]
        if missing:
            out.append(f"parameters not documented: {', '.join(missing)}")
    unknown = sorted(documented - set(params))
    if unknown:
        out.append(f"documented parameters that do not exist: {', '.join(unknown)}")
    return out


def test_items_found():
    paths = {i.path for i in ITEMS}
    assert {"braincause.stats.bootstrap.bootstrap_ci", "braincause.localize"} <= paths
    assert len(ITEMS) > 100


@pytest.mark.parametrize("item", [pytest.param(i, id=i.path) for i in ITEMS])
def test_numpydoc(item: Item):
    if item.kind == "import-error":
        pytest.fail(f"{item.path} does not import: {item.obj!r}")
    found = problems(item)
    assert not found, f"{item.path} ({item.kind}): " + "; ".join(found)


# ------------------------------------------------------------- one seed argument name
#: The rule (README, "Development"): ``random_state`` for a source of randomness that
#: ``braincause.utils.check_random_state`` accepts (None, int, SeedSequence or Generator);
#: ``seed`` only for a plain int that is recorded (result.json, a manifest, a cache key)
#: or handed to another library's generator (torch, a chat server), so it cannot be a
#: Generator; ``seeds`` / ``random_states`` for one of those per item.
SEED_NAMES = {"seed", "seeds", "random_state", "random_states"}
_SEEDLIKE = re.compile(r"seed|rng|random", re.I)
#: Old names kept working (with a DeprecationWarning) for callers outside their package.
DEPRECATED_ALIASES = {("braincause.bench.groundtruth.run_benchmark", "base_seed")}


def _seed_problems(item: Item) -> list[str]:
    try:
        sig = inspect.signature(item.obj)
    except (TypeError, ValueError):
        return []
    out = []
    for p in sig.parameters.values():
        ann = str(p.annotation)
        if not _SEEDLIKE.search(p.name) or ann == "bool" or (item.path, p.name) in \
                DEPRECATED_ALIASES:
            continue
        if p.name not in SEED_NAMES:
            out.append(f"{p.name!r}: use random_state (a source of randomness) or seed "
                       "(a recorded int)")
        elif p.name in ("seed", "seeds") and re.search(r"RandomState|Generator", ann):
            out.append(f"{p.name!r} accepts a Generator ({ann}): call it random_state")
    return out


def _has_seedlike(item: Item) -> bool:
    if item.kind not in ("function", "method", "class"):
        return False
    try:
        return any(_SEEDLIKE.search(n) for n in inspect.signature(item.obj).parameters)
    except (TypeError, ValueError):
        return False


@pytest.mark.parametrize("item", [pytest.param(i, id=i.path) for i in ITEMS
                                  if _has_seedlike(i)])
def test_seed_argument_name(item: Item):
    found = _seed_problems(item)
    assert not found, f"{item.path}: " + "; ".join(found)


def test_run_benchmark_base_seed_still_works():
    from braincause.bench.groundtruth import run_benchmark
    from braincause.exceptions import UserInputError

    with pytest.warns(DeprecationWarning, match="use seed="), \
            pytest.raises(UserInputError, match="unknown benchmark concept"):
        run_benchmark(concepts=["no such concept"], base_seed=3)
