"""The execution layer (:mod:`braincause.engine`): the local process pool and Ray give
the same outcomes, keep per-worker state across tasks, and turn a task's exception into
a failed outcome with its message. The Ray tests start a local cluster (127.0.0.1, 2
CPUs, 200 MB object store, no dashboard) and stop it."""

from __future__ import annotations

import pytest

from braincause.engine import LocalEngine, Outcome, RayEngine, Resources, make_engine, task_seed
from braincause.exceptions import UserInputError
from engine_tasks import square

ARGS = [0, 1, 2, 3, 4, 5, 6]


def _state_kept(outcomes: list[Outcome]) -> bool:
    """Each worker's task counter went 1, 2, 3… over all the outcomes (no restart, no
    reset between runs)."""
    per: dict[int, list[int]] = {}
    for o in outcomes:
        if o.ok:
            per.setdefault(o.value["pid"], []).append(o.value["n"])
    return all(sorted(n) == list(range(1, len(n) + 1)) for n in per.values())


def _values(outcomes: list[Outcome]) -> list:
    return [(o.index, o.ok, o.value["square"] if o.ok else o.error, o.user_error)
            for o in sorted(outcomes, key=lambda o: o.index)]


EXPECTED = [(0, True, 0, False), (1, True, 1, False), (2, True, 4, False),
            (3, False, "ValueError: three is refused", False), (4, True, 16, False),
            (5, False, "five is bad input", True), (6, True, 36, False)]


def test_local_engine_in_process_and_pool():
    with LocalEngine(1) as e:
        one = list(e.run(square, ARGS))
    assert [o.index for o in one] == list(range(len(ARGS)))  # in order, in this process
    assert _values(one) == EXPECTED
    assert [o.value["n"] for o in one if o.ok][-1] >= 5  # state kept across tasks
    with LocalEngine(2, resources=Resources(cpus=1)) as e:
        two = list(e.run(square, ARGS))
        again = list(e.run(square, [7, 8]))  # the same processes, their state kept
    assert _values(two) == EXPECTED
    pids = {o.value["pid"] for o in two + again if o.ok}
    assert len(pids) <= 2 and _state_kept(two + again)
    assert {o.value["threads"] for o in two if o.ok} == {"1"}


def test_outcome_unwrap_reraises_the_task_exception():
    out = next(iter(LocalEngine(1).run(square, [5])))
    assert not out.ok and out.elapsed_s >= 0 and "five is bad input" in out.traceback
    with pytest.raises(UserInputError, match="five is bad input"):
        out.unwrap()
    assert Outcome(0, True, 7).unwrap() == 7
    with pytest.raises(RuntimeError, match="task 2 failed: boom"):
        Outcome(2, False, None, "boom").unwrap()


def test_bad_engine_arguments():
    with pytest.raises(UserInputError, match="unknown engine"):
        make_engine("dask")
    with pytest.raises(UserInputError, match="--address is for --engine ray"):
        make_engine("local", address="auto")
    with pytest.raises(UserInputError, match="workers"):
        LocalEngine(0)
    with pytest.raises(UserInputError, match="cpus per task"):
        Resources(cpus=0)
    with pytest.raises(UserInputError, match="gpus per task"):
        Resources(gpus=-1)
    with pytest.raises(UserInputError, match="Ray address"):
        RayEngine(address=" ")


def test_task_seed_depends_on_its_inputs_only():
    assert task_seed(0, "faces") == task_seed(0, "faces", 0)
    assert len({task_seed(0, "faces"), task_seed(1, "faces"), task_seed(0, "food"),
                task_seed(0, "faces", 1)}) == 4
    assert 0 <= task_seed(123, "x") < 2 ** 31


def test_ray_engine_matches_local_and_reuses_workers():
    pytest.importorskip("ray")
    import ray

    eng = make_engine("ray", workers=2, resources=Resources(cpus=1))
    assert eng.describe()["address"] == "local (127.0.0.1)"
    with eng:
        res = ray.cluster_resources()
        assert res["CPU"] == 2 and res.get("GPU", 0) == 0
        first = list(eng.run(square, ARGS))
        second = list(eng.run(square, [7, 8, 9]))
    assert not ray.is_initialized()  # the cluster it started is stopped
    assert _values(first) == EXPECTED
    pids = {o.value["pid"] for o in first + second if o.ok}
    assert len(pids) == 2  # two actors for the whole run
    # each actor kept its state from the first run: counts go on, not back to 1
    assert _state_kept(first + second) and min(o.value["n"] for o in second) > 1
    assert {o.value["threads"] for o in first if o.ok} == {"1"}


def test_cli_engine_options_are_checked_before_any_work(capsys, tmp_path):
    from braincause.cli import main

    assert main(["benchmark", "--address", "auto", "--concepts", "sky",
                 "--out", str(tmp_path)]) == 2
    assert "--address is for --engine ray" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
