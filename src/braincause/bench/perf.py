"""Shared parts of the performance benchmarks in ``benchmarks/``.

The development machines are small and shared, so absolute times drift from run
to run; what the benchmarks record are ratios measured in one run, with the
contenders interleaved (round-robin, the starting contender rotating) and
repeated, and the median kept. Every result records the machine: cores, the
BLAS library and its thread count (threadpoolctl), the ``OPENBLAS_*`` /
``*_NUM_THREADS`` variables and the load average.

Peak memory is measured in a fresh Python process per contender
(:func:`measure_in_subprocess`): the process builds its inputs, the peak
resident set size is reset (``/proc/self/clear_refs``, Linux), and the work runs
under :mod:`tracemalloc` (numpy reports its buffers to it; BLAS work space does
not show there, only in the resident set size).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["STAGES", "interleave", "load_average", "machine_info", "measure_in_subprocess",
           "split_stages", "summarize"]

_ENV_PREFIXES = ("OPENBLAS_", "OMP_", "MKL_", "BLIS_", "NUMEXPR_")


def load_average() -> list[float]:
    """The 1, 5 and 15 minute load averages (empty where the OS has none).

    Returns
    -------
    list of float
        Rounded to 2 decimals.
    """
    try:
        return [round(v, 2) for v in os.getloadavg()]
    except OSError:  # pragma: no cover - not on Linux
        return []


def _meminfo_gib() -> float | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:  # pragma: no cover - not on Linux
        pass
    return None


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:  # pragma: no cover - not on Linux
        pass
    return platform.processor()


def machine_info() -> dict[str, Any]:
    """Cores, memory, CPU, Python and numpy versions, BLAS (threadpoolctl), thread variables.

    Returns
    -------
    dict
        ``cpu_count``, ``cpu_model``, ``memory_gib``, ``machine``, ``python``, ``numpy``,
        ``threadpools`` (threadpoolctl's libraries, without file paths) and ``env`` (the
        ``OPENBLAS_*``, ``OMP_*``, ``MKL_*``, ``BLIS_*``, ``NUMEXPR_*`` variables).
    """
    from threadpoolctl import threadpool_info

    blas = [{k: v for k, v in lib.items() if k != "filepath"} for lib in threadpool_info()]
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "memory_gib": _meminfo_gib(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "threadpools": blas,
        "env": {k: v for k, v in sorted(os.environ.items()) if k.startswith(_ENV_PREFIXES)},
    }


def interleave(contenders: Mapping[str, Callable[[], Any]], repeats: int) -> dict[str, list[float]]:
    """Wall times of each contender over ``repeats`` rounds, run round-robin.

    Round ``r`` starts with contender ``r mod k`` so no contender always runs
    first (cold caches) or right after the same neighbour.

    Parameters
    ----------
    contenders : mapping of str to callable
        Name to a function called without arguments.
    repeats : int
        Number of rounds.

    Returns
    -------
    dict of str to list of float
        Each contender's wall times in seconds, one per round.
    """
    names = list(contenders)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        for j in range(len(names)):
            name = names[(r + j) % len(names)]
            t = time.perf_counter()
            contenders[name]()
            times[name].append(time.perf_counter() - t)
    return times


def summarize(times: Sequence[float]) -> dict[str, Any]:
    """Median, min and max of repeated wall times (seconds), and the times themselves.

    Parameters
    ----------
    times : sequence of float
        Wall times in seconds.

    Returns
    -------
    dict
        ``median_s``, ``min_s``, ``max_s`` and ``times_s``, rounded to 4 decimals.
    """
    arr = np.asarray(times, dtype=float)
    return {"median_s": round(float(np.median(arr)), 4), "min_s": round(float(arr.min()), 4),
            "max_s": round(float(arr.max()), 4), "times_s": [round(float(t), 4) for t in arr]}


_CHILD = r"""
import importlib, importlib.util, json, resource, sys, time, tracemalloc

def status(field):
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024.0
    return None

spec = json.loads(sys.argv[1])
where, name = spec["target"].rsplit(":", 1)
if where.endswith(".py"):
    s = importlib.util.spec_from_file_location("_bench_target", where)
    mod = importlib.util.module_from_spec(s)
    s.loader.exec_module(mod)
else:
    mod = importlib.import_module(where)
work = getattr(mod, name)(**spec["kwargs"])
rss_before = status("VmRSS")
try:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")  # resets VmHWM, the peak resident set size
    reset = True
except OSError:
    reset = False
tracemalloc.start()
t = time.perf_counter()
out = work()
wall = time.perf_counter() - t
_, traced_peak = tracemalloc.get_traced_memory()
tracemalloc.stop()
print("@@RESULT@@" + json.dumps({
    "wall_s": wall, "rss_before_mib": rss_before, "peak_rss_mib": status("VmHWM"),
    "peak_reset": reset,
    "ru_maxrss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    "tracemalloc_peak_mib": traced_peak / 2**20, "returned": out}))
"""


def measure_in_subprocess(target: str, kwargs: Mapping[str, Any] | None = None, *,
                          timeout: float | None = None) -> dict[str, Any]:
    """Run one piece of work in a fresh Python process and report its time and memory.

    Parameters
    ----------
    target : str
        ``"package.module:function"`` or ``"path/to/file.py:function"``. The
        function takes ``kwargs``, builds its inputs and returns a zero-argument
        callable doing the measured work; that callable may return something
        JSON-serialisable, which comes back as ``"returned"``.
    kwargs : mapping, optional
        JSON-serialisable keyword arguments for the function.
    timeout : float, optional
        Seconds before the child is killed (``subprocess.TimeoutExpired``).

    Returns
    -------
    dict
        ``wall_s`` (the work alone, under tracemalloc), ``rss_before_mib`` (resident
        set after building the inputs), ``peak_rss_mib`` (peak resident set during
        the work, when ``peak_reset``; otherwise over the whole process),
        ``ru_maxrss_mib`` (``getrusage`` peak over the whole process, inputs included),
        ``tracemalloc_peak_mib`` (peak of Python/numpy allocations during the work),
        ``work_rss_mib`` (``peak_rss_mib - rss_before_mib``) and ``returned``.
    """
    spec = json.dumps({"target": target, "kwargs": dict(kwargs or {})})
    # Linux carries the peak resident set of the forking process over to the child's
    # getrusage() through exec; started from a small shell, the child's starts clean
    cmd = ["/bin/sh", "-c", '"$@" & wait $!', "sh", sys.executable, "-c", _CHILD, spec]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the shell and the measured process
        proc.communicate()
        raise
    lines = [ln for ln in stdout.splitlines() if ln.startswith("@@RESULT@@")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"the measured process for {target} failed with exit code "
                           f"{proc.returncode}: {stderr[-2000:]}")
    res = json.loads(lines[-1][len("@@RESULT@@"):])
    res["work_rss_mib"] = (res["peak_rss_mib"] - res["rss_before_mib"]
                           if res["peak_reset"] else None)
    for k, v in res.items():
        if isinstance(v, float):
            res[k] = round(v, 3 if k == "wall_s" else 1)
    return res


#: Stages of one ``localize`` run, in order, as :func:`split_stages` names them.
STAGES = ("resolve", "subject+roles", "encoder", "verifier", "stimuli", "stimuli: plan",
          "stimuli: generate", "stimuli: verify", "stimuli: edit", "predict", "retrieval",
          "scoring", "regions", "tests (bootstrap)", "baselines", "permutations",
          "verdict+write", "follow-up", "report")

# (message prefix, stage it starts); messages not listed keep the current stage
_TOP = (("concept:", "resolve"), ("subject ", "subject+roles"), ("@encoder:start", "encoder"),
        ("@encoder:end", "verifier"), ("@stimuli:start", "stimuli"),
        ("@stimuli:end", "predict"), ("predicting responses", "predict"),
        ("retrieving measured images", "retrieval"), ("scoring voxels", "scoring"),
        ("@regions:start", "regions"), ("testing on held-out data", "tests (bootstrap)"),
        ("baseline concepts", "baselines"), ("voxelwise permutation tests", "permutations"),
        ("@permutation:start", "permutations"), ("@permutation:end", "verdict+write"),
        ("designing the follow-up", "follow-up"), ("writing the report", "report"))
_STIMULI = (("planning prompts", "stimuli: plan"), ("generating", "stimuli: generate"),
            ("features and verification", "stimuli: verify"), ("editing", "stimuli: edit"))


def split_stages(events: Sequence[tuple[float, str]], end: float) -> dict[str, float]:
    """Seconds spent in each stage of a ``localize`` run, from timed messages.

    ``events`` are ``(time, message)`` in order: the pipeline's progress messages
    plus markers starting with ``@`` that a benchmark adds around calls the
    pipeline does not announce (``@encoder:start``/``end`` around the encoder,
    ``@stimuli:start``/``end`` around the concept's own stimuli, ``@regions:start``
    at the first region proposal, ``@permutation:start``/``end`` around each test).
    The time from one event to the next goes to the stage the first one opens
    (or continues); inside the stimuli stage, the stimulus messages split it into
    plan / generate / verify / edit. The last event runs to ``end``.

    Parameters
    ----------
    events : sequence of (float, str)
        ``(time, message)`` pairs in time order.
    end : float
        The time the run ended.

    Returns
    -------
    dict of str to float
        Stage name to seconds, in the order of ``STAGES`` (stages never reached left out).
    """
    out: dict[str, float] = {}
    stage = "resolve"
    in_stimuli = False
    for i, (t, msg) in enumerate(events):
        for prefix, name in _TOP:
            if msg.startswith(prefix):
                stage = name
                in_stimuli = name == "stimuli"
                break
        else:
            if in_stimuli:
                for prefix, name in _STIMULI:
                    if msg.startswith(prefix):
                        stage = name
                        break
        t_next = events[i + 1][0] if i + 1 < len(events) else end
        out[stage] = out.get(stage, 0.0) + max(0.0, t_next - t)
    return {k: out[k] for k in STAGES if k in out}
