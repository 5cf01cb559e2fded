"""Progress on the terminal: a tqdm bar with counts and ETA on a TTY (a real pseudo-
terminal here), plain lines otherwise, nothing with --quiet."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from braincause.utils.progress import ProgressReporter, parse_count
from mini import MINI_SUBJECT

MESSAGES = ["subject synth-01", "features 100/300", "features 200/300", "features 300/300",
            "ridge: 200 train images × 1656 features", "baseline 1/2: door",
            "baseline 2/2: bed", "done"]


def _read_all(fd: int) -> bytes:
    out = b""
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    return out


def test_parse_count():
    assert parse_count("features 256/3000") == ("features", 256, 3000, "")
    assert parse_count("baseline 3/19: door") == ("baseline", 3, 19, "door")
    assert parse_count("[12/200] synth-01 faces r0: discovery") == \
        ("tasks", 12, 200, "synth-01 faces r0: discovery")
    assert parse_count("verifier: rendered and featurised 512/1288 training images") == \
        ("verifier: rendered and featurised", 512, 1288, "training images")
    for plain in ("subject synth-01", "ridge: 200 train images", "reading /tmp/a/b",
                  "bad 5/3", "zero 0/0"):
        assert parse_count(plain) is None, plain


def test_bars_on_a_terminal():
    master, slave = os.openpty()
    with os.fdopen(slave, "w", closefd=True) as tty:
        assert tty.isatty()
        rep = ProgressReporter(stream=tty)
        assert rep.tty
        for m in MESSAGES:
            rep(m)
        rep.done()
    text = _read_all(master).decode("utf-8", "replace")
    os.close(master)
    assert re.search(r"features: +100%\|[^|]*\| 300/300 \[\d\d:\d\d<\d\d:\d\d", text), text
    assert re.search(r"baseline: +100%\|[^|]*\| 2/2 .*bed", text), text
    assert "\r" in text                       # the bar is redrawn in place
    assert "] subject synth-01" in text and "] ridge: 200 train images" in text


def test_plain_lines_off_a_terminal_and_quiet():
    buf = io.StringIO()
    rep = ProgressReporter(stream=buf)
    assert not rep.tty
    for m in MESSAGES:
        rep(m)
    rep.done()
    lines = buf.getvalue().splitlines()
    assert [re.sub(r"^\[ *\d+\.\ds\] ", "", x) for x in lines] == MESSAGES
    assert "\r" not in buf.getvalue() and "%|" not in buf.getvalue()
    quiet = io.StringIO()
    rep = ProgressReporter(quiet=True, stream=quiet)
    for m in MESSAGES:
        rep(m)
    assert quiet.getvalue() == ""


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    from PIL import Image

    d = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(3)
    for i in range(70):  # two steps of predict's 64-image chunks
        Image.fromarray(rng.integers(0, 255, (40 + i, 50, 3), dtype=np.uint8)).save(
            d / f"im{i:02d}.png")
    return d


def _command(images, out):
    return [sys.executable, "-m", "braincause", "predict", str(images), "--subject",
            MINI_SUBJECT, "--out", str(out)]


def test_a_command_on_a_terminal_shows_the_bar(images, tmp_path):
    """`braincause predict` run in a pseudo-terminal (as a user's shell runs it)."""
    import pty

    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "COLUMNS": "120"}
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, on the terminal
        os.execve(sys.executable, _command(images, tmp_path / "p.csv"), env)
    text = _read_all(fd).decode("utf-8", "replace")
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    assert os.waitstatus_to_exitcode(status) == 0, text
    assert re.search(r"predicted: +100%\|[^|]*\| 70/70 \[\d\d:\d\d<\d\d:\d\d", text), text
    assert re.search(r"predicted: +\d+%\|[^|]*\| 64/70", text), text
    assert (tmp_path / "p.csv").is_file()


def test_a_command_off_a_terminal_logs_plain_lines(images, tmp_path):
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": src + os.pathsep + os.environ.get("PYTHONPATH", "")}
    r = subprocess.run(_command(images, tmp_path / "p.csv"), capture_output=True, text=True,
                       env=env, check=True)
    lines = r.stderr.splitlines()
    assert any(re.fullmatch(r"\[ *\d+\.\ds\] predicted 64/70 images", x) for x in lines), lines
    assert any(re.fullmatch(r"\[ *\d+\.\ds\] predicted 70/70 images", x) for x in lines)
    assert "\r" not in r.stderr and "%|" not in r.stderr
    q = subprocess.run([*_command(images, tmp_path / "q.csv"), "--quiet"],
                       capture_output=True, text=True, env=env, check=True)
    assert q.stderr == ""


def test_building_a_subject_reports_the_rendering_counts(tmp_path, monkeypatch):
    """A subject built from scratch reports ``rendering … done/total`` (bars on a
    terminal); one already built reports nothing."""
    from braincause.datasets.synthetic import load_subject

    monkeypatch.setenv("BRAINCAUSE_CACHE", str(tmp_path))
    heard: list[str] = []
    subj = load_subject("synth-s9173-mini", progress=heard.append)
    counts = [parse_count(m) for m in heard]
    assert counts and all(c is not None for c in counts)
    labels = {c[0] for c in counts}
    assert labels == {"rendering shared scenes", "rendering the subject's own scenes"}
    for label in labels:
        mine = [c for c in counts if c[0] == label]
        assert mine[0][1] == 0 and mine[-1][1] == mine[-1][2]  # from 0 to the total
    total = sum({c[0]: c[2] for c in counts}.values())
    assert total == subj.n_images
    again: list[str] = []
    assert load_subject("synth-s9173-mini", progress=again.append) is subj and again == []
