"""The HTML report: content, escaping, bad input, and a load test in headless Chromium.

``tests/data/report_run`` is a trimmed copy of a real run (``braincause localize faces
--subject synth-01``): result.json and maps.npz as written, and 27 of its stimuli
(downscaled to 72 px) with their manifest entries.

The browser tests drive Chromium over the DevTools protocol through a pipe
(``--remote-debugging-pipe``: fd 3 in, fd 4 out, NUL-separated JSON), so they need
no extra Python package. Every console message, uncaught exception, log entry (CSP
violations and failed loads land there) and network request of the page and of its
frames is recorded; the test fails on any error and on any request other than the
report file itself and ``data:`` URIs. Without Chromium the browser tests skip, except
when ``CI`` is set: there they fail.

Run as a script, the module takes the documentation screenshot::

    python tests/test_report.py RUN_DIR OUT.png
"""

from __future__ import annotations

import base64
import html
import io
import json
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from markupsafe import escape

from braincause.exceptions import BackendUnavailable, UserInputError
from braincause.report import build_report_html, load_run, write_report
from braincause.report import figures as report_figures
from braincause.report.interactive import _script_hashes, interactive_available

DATA = Path(__file__).parent / "data" / "report_run"
PAYLOAD_SCRIPT = "<script>document.title='pwned';window.pwned=1</script>"
PAYLOAD_ATTR = "\"'><img src=x onerror=\"document.title='pwned'\">"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def run_dir(tmp_path) -> Path:
    dst = tmp_path / "run"
    shutil.copytree(DATA, dst)
    return dst


@pytest.fixture(scope="module")
def faces_report(tmp_path_factory) -> tuple[Path, str]:
    """The real report of the test run (surface maps drawn; 3-D view when plotly is there)."""
    dst = tmp_path_factory.mktemp("report") / "run"
    shutil.copytree(DATA, dst)
    path = write_report(dst)
    return path, path.read_text(encoding="utf-8")


@pytest.fixture
def fast_maps(monkeypatch) -> list[dict[str, Any]]:
    """Replace the (slow) surface drawing by a tiny figure; records the calls."""
    from matplotlib.figure import Figure

    calls: list[dict[str, Any]] = []

    def fake(cortex, values, **kwargs):
        calls.append({"values": np.asarray(values), **kwargs})
        fig = Figure(figsize=(1.6, 1.0), dpi=50)
        fig.add_subplot().plot(np.nan_to_num(np.asarray(values)[:50]))
        return fig

    monkeypatch.setattr("braincause.report.surface.plot_surface_map", fake)
    return calls


def _edit_json(path: Path, fn) -> None:
    """Change a JSON file in place: ``fn`` mutates the loaded object."""
    data = json.loads(path.read_text())
    fn(data)
    path.write_text(json.dumps(data))


def _section(page: str, sid: str) -> str:
    start = page.index(f'<section id="{sid}">')
    return page[start:page.index("</section>", start)]


# --------------------------------------------------------------------------- content


def test_sections_come_in_order_with_the_verdict_first(faces_report):
    _, page = faces_report
    ids = re.findall(r'<section id="([a-z]+)">', page)
    assert ids == ["verdict", "five", "maps", "scores", "coverage", "stimuli", "followup",
                   "details"]
    verdict = _section(page, "verdict")
    assert ">discovery</div>" in verdict
    for reason in json.loads((DATA / "result.json").read_text())["verdict"]["reasons"]:
        assert str(escape(reason)) in verdict


def test_five_columns_follow_the_paper(faces_report):
    _, page = faces_report
    five = _section(page, "five")
    heads = re.findall(r'<th class="n">([^<]+)<br>', five)
    assert heads == ["Activation – generated", "Activation – measured",
                     "Semantic causality – generated", "Semantic causality – measured",
                     "Counterfactual causality (edits)"]
    res = json.loads((DATA / "result.json").read_text())
    rows = five.split("<tr>")[2:]
    assert len(rows) == 2 and "causal region" in rows[0] and "activation-only" in rows[1]
    for row, key in zip(rows, ("causal", "activation"), strict=True):
        cells = re.findall(r'<td class="n">(.*?)</td>', row, re.S)
        order = ("act_gen", "act_meas", "causal_gen", "causal_meas", "edits")
        for cell, crit in zip(cells, order, strict=True):
            e = res["p_values"][key][crit]
            assert f"{e['value']:+.3f}" in cell and f"p {e['p']:.3f}" in cell


def test_scores_have_confidence_intervals_and_coverage_flags_gaps(faces_report):
    _, page = faces_report
    scores = _section(page, "scores")
    s = json.loads((DATA / "result.json").read_text())["region"]["scores"]["eval_generated"]
    assert f"[{s['s_pos']['ci_low']:+.3f}, {s['s_pos']['ci_high']:+.3f}]" in scores
    assert "Voxelwise permutation tests" in scores
    coverage = _section(page, "coverage")
    assert '<span class="missing">person</span>' in coverage


def test_maps_and_thumbnails_are_inlined(faces_report):
    from PIL import Image

    _, page = faces_report
    maps = re.findall(r'<figure class="map" id="map-([a-z-]+)">\s*<img src="data:image/png;'
                      r'base64,([A-Za-z0-9+/=]+)"', page)
    assert [k for k, _ in maps] == ["s-causal", "region-causal", "s-pos", "region-activation"]
    img = Image.open(io.BytesIO(base64.b64decode(maps[0][1])))
    assert img.size == (1360, 816)
    arr = np.asarray(img.convert("L"), float)
    assert arr.std() > 20  # a drawn figure, not a blank canvas
    stimuli = _section(page, "stimuli")
    manifest = json.loads((DATA / "stimuli" / "manifest.json").read_text())
    n_rejected = sum(not e["kept"] for e in manifest)
    n_neg = sum(e["kept"] and e["role"] == "negative" for e in manifest)
    pairs = stimuli.split('id="gallery-pairs"')[1].split('id="gallery-negatives"')[0]
    assert pairs.count('class="thumb positive "') == 4
    assert pairs.count('class="thumb edit "') == 8
    assert stimuli.count('class="thumb negative "') == n_neg
    assert stimuli.count(' rejected"') == min(12, n_rejected)
    assert stimuli.count("data:image/jpeg;base64,") == 12 + n_neg + min(12, n_rejected)
    assert len(page) < 6_000_000


def test_page_refers_to_nothing_outside_itself(faces_report):
    _, page = faces_report
    outer = re.sub(r'srcdoc="[^"]*"', 'srcdoc=""', page)  # the 3-D frame: checked separately
    refs = re.findall(r'\b(?:src|href|srcset|poster|action|data|xlink:href)\s*=\s*"([^"]*)"',
                      outer)
    assert refs and all(r.startswith(("data:", "#")) or r == "" for r in refs), \
        [r[:60] for r in refs if not r.startswith(("data:", "#"))]
    assert "url(" not in outer and "@import" not in outer
    csp = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"',
                                  page).group(1))
    assert "default-src 'none'" in csp and "img-src data:" in csp
    if 'id="view3d"' not in page:
        assert "script-src 'none'" in csp and "<script" not in page


def test_outlines_are_the_planted_areas_and_decoys_holding_the_regions():
    run = load_run(DATA)
    masks, colours = report_figures.select_outlines(run)
    assert 0 < len(masks) <= report_figures.MAX_OUTLINES and set(masks) == set(colours)
    kinds = {label.rsplit(" (", 1)[1] for label in masks}
    assert kinds == {"planted)", "decoy)"}  # faces: pSTS-face… and the sign-shape decoy
    assert "pSTS-face (planted)" in masks
    for m in masks.values():
        assert m.dtype == bool and m.shape == (run.n_voxels,)


def test_outline_colours_are_checked_and_used():
    from matplotlib.colors import to_hex
    from matplotlib.legend import Legend

    from braincause.report.surface import OUTLINE_COLOURS, _outline_colours, plot_surface_map
    from braincause.synth.cortex import load_cortex

    assert _outline_colours(["a", "b", "c"], {"b": "#123456"}) == {
        "a": OUTLINE_COLOURS[0], "b": "#123456", "c": OUTLINE_COLOURS[1]}
    assert _outline_colours(["a"], None) == {"a": OUTLINE_COLOURS[0]}  # the old default
    cortex = load_cortex()
    values = np.linspace(-1, 1, cortex.n_voxels)
    mask = {"area": values > 0.5}
    with pytest.raises(UserInputError, match=r"not in `outline`: \['other'\]"):
        plot_surface_map(cortex, values, outline=mask, outline_colours={"other": "red"})
    with pytest.raises(UserInputError, match="not a matplotlib colour"):
        plot_surface_map(cortex, values, outline=mask, outline_colours={"area": "nocolour"})
    # the legend shows the chosen colour
    fig = plot_surface_map(cortex, values, outline=mask, outline_colours={"area": "#123456"})
    patches = [h for leg in fig.findobj(Legend) for h in leg.get_patches()]
    assert "#123456" in {to_hex(h.get_edgecolor()) for h in patches}


def test_real_subject_without_areas_or_followup(run_dir, fast_maps):
    with np.load(run_dir / "maps.npz") as z:
        arrays = {k: z[k] for k in z.files if not k.startswith("area_") and k != "truth"}
    np.savez_compressed(run_dir / "maps.npz", **arrays)
    _edit_json(run_dir / "result.json", lambda d: d.pop("ground_truth"))
    page = build_report_html(run_dir, interactive=False)
    assert len(fast_maps) == 4
    for call in fast_maps:
        assert all(k.startswith(("causal region", "activation-only region"))
                   for k in call["outline"])
    assert "Ground truth" not in page and "Coloured outlines" not in page
    assert 'id="followup-note"' in page and "design.json</code> is absent" in page


def test_followup_summary_is_a_table(run_dir, fast_maps):
    (run_dir / "followup").mkdir()
    summary = {"n_runs": 8, "power": 0.81234, "conditions": ["positive", "edit"],
               "design": "event-related", "feasible": True}
    (run_dir / "followup" / "design.json").write_text(json.dumps(
        {"summary": summary, "warnings": ["few stimuli for sky"], "other": [1, 2]}))
    (run_dir / "followup" / "protocol.md").write_text("# protocol\n")
    section = _section(build_report_html(run_dir, interactive=False), "followup")
    for row in ("<th>n_runs</th><td>8</td>", "<th>power</th><td>0.8123</td>",
                "<td>positive, edit</td>", "<td>event-related</td>", "<td>yes</td>",
                "<li>few stimuli for sky</li>"):
        assert row in section
    assert "followup/protocol.md" in section and "<a " not in section


def test_write_report_is_atomic(run_dir, fast_maps):
    path = write_report(run_dir, interactive=False)
    assert path == run_dir / "report.html"
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]


def _remove(rel):
    return lambda d: (d / rel).unlink()


def _write(rel, data: bytes):
    return lambda d: (d / rel).write_bytes(data)


def _bad_png_name(d: Path) -> None:
    _edit_json(d / "stimuli" / "manifest.json", lambda m: m[0].update(file="../result.json"))


def _no_png(d: Path) -> None:
    for png in (d / "stimuli").glob("*.png"):
        png.unlink()


def _short_map(d: Path) -> None:
    with np.load(d / "maps.npz") as z:
        arrays = {k: z[k] for k in z.files}
    arrays["s_pos"] = arrays["s_pos"][:-1]
    np.savez(d / "maps.npz", **arrays)


@pytest.mark.parametrize(("damage", "message"), [
    (_remove("result.json"), r"result\.json is missing"),
    (_write("result.json", b"{not json"), r"result\.json could not be read as JSON"),
    (lambda d: _edit_json(d / "result.json", lambda r: r.pop("verdict")),
     r"result\.json lacks \['verdict'\]"),
    (_remove("maps.npz"), r"maps\.npz is missing"),
    (_write("maps.npz", b"PK\x03\x04 garbage"), r"maps\.npz could not be read"),
    (_short_map, r"maps\.npz: 's_pos' has shape \(6213,\), expected \(6214,\)"),
    (_remove("stimuli/manifest.json"), r"manifest\.json is missing"),
    (_bad_png_name, r"expected a plain file name"),
    (_no_png, r"\.png is listed in stimuli/manifest\.json but missing"),
    (lambda d: (d / "followup").mkdir() or (d / "followup" / "design.json").write_text("[1]"),
     r"design\.json must hold a JSON object"),
])
def test_bad_run_folders_name_the_file(run_dir, fast_maps, damage, message):
    damage(run_dir)
    with pytest.raises(UserInputError, match=message) as err:
        write_report(run_dir)
    assert str(run_dir) in str(err.value)
    assert not fast_maps  # input errors surface before any drawing
    assert not (run_dir / "report.html").exists()


def test_bad_arguments(tmp_path):
    with pytest.raises(UserInputError, match="does not exist"):
        build_report_html(tmp_path / "nowhere")
    with pytest.raises(UserInputError, match="interactive must be"):
        build_report_html(DATA, interactive="yes")


@pytest.mark.skipif(interactive_available(), reason="plotly is installed")
def test_3d_view_without_plotly_says_how_to_get_it(run_dir, fast_maps):
    with pytest.raises(BackendUnavailable, match="pip install plotly"):
        build_report_html(run_dir, interactive=True)
    page = build_report_html(run_dir)
    assert 'id="view3d-note"' in page and "pip install plotly" in page
    assert 'id="view3d"' not in page


@pytest.mark.skipif(not interactive_available(), reason="needs plotly")
def test_3d_view_is_embedded_offline(run_dir, fast_maps):
    page = build_report_html(run_dir, interactive=True)
    frame = re.search(r'<iframe [^>]*id="view3d"[^>]*sandbox="allow-scripts" srcdoc="([^"]*)"',
                      page)
    assert frame
    inner = html.unescape(frame.group(1))
    assert "Plotly" in inner and "<link" not in inner
    csp = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"',
                                  page).group(1))
    hashes = _script_hashes(inner)
    assert hashes and all(h in csp for h in hashes) and "'unsafe-inline'" not in csp.split(
        "script-src")[1]
    outer = page.replace(frame.group(1), "")
    assert "<script" not in outer


def test_script_hashes_match_the_csp_definition():
    import hashlib

    page = "<p>x</p><script>var a = 1;</script><div><SCRIPT>b()</SCRIPT>"
    want = [base64.b64encode(hashlib.sha256(s).digest()).decode() for s in
            (b"var a = 1;", b"b()")]
    assert _script_hashes(page) == tuple(f"'sha256-{w}'" for w in want)


def _inject(run_dir: Path) -> None:
    """Put script and attribute payloads in every user-influenced text."""
    def result(d):
        d["query"] = PAYLOAD_SCRIPT
        d["concept"].update(label=PAYLOAD_ATTR, description=PAYLOAD_SCRIPT)
        d["verdict"]["reasons"].append(PAYLOAD_SCRIPT)
        d["stimuli"]["counter_concepts"][0].update(label=PAYLOAD_ATTR, reason=PAYLOAD_SCRIPT)
        d["coverage"]["missing_counter_concepts"] = [PAYLOAD_ATTR]

    def manifest(m):
        for e in m:
            e["text"] = PAYLOAD_SCRIPT + PAYLOAD_ATTR
            if e["counter_concept"] == "person":
                e["counter_concept"] = PAYLOAD_ATTR

    _edit_json(run_dir / "result.json", result)
    _edit_json(run_dir / "stimuli" / "manifest.json", manifest)
    (run_dir / "followup").mkdir()
    (run_dir / "followup" / "design.json").write_text(json.dumps(
        {"summary": {PAYLOAD_SCRIPT: PAYLOAD_ATTR}}))


def test_user_text_is_escaped(run_dir, fast_maps):
    _inject(run_dir)
    page = build_report_html(run_dir, interactive=False)
    assert PAYLOAD_SCRIPT not in page and PAYLOAD_ATTR not in page
    assert "<script" not in page.lower() and "<img src=x" not in page
    assert str(escape(PAYLOAD_SCRIPT)) in page and str(escape(PAYLOAD_ATTR)) in page
    # the attribute payload cannot close an attribute: no raw quote follows an "=" from it
    assert not re.search(r"onerror=\"", page)


# --------------------------------------------------------------------------- Chromium


def _chromium() -> str | None:
    for name in (os.environ.get("BRAINCAUSE_CHROMIUM"), "chromium", "chromium-browser",
                 "google-chrome", "google-chrome-stable"):
        if name and shutil.which(name):
            return shutil.which(name)
    return None


@pytest.fixture(scope="module")
def chromium() -> str:
    exe = _chromium()
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed but CI is set: the browser tests must run "
                        "in CI (apt-get install chromium, or set BRAINCAUSE_CHROMIUM)")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return exe


class _DevTools:
    """A minimal Chrome DevTools Protocol client over ``--remote-debugging-pipe``."""

    def __init__(self, exe: str, profile: Path):
        cmd_r, cmd_w = os.pipe()  # we write, Chromium reads on fd 3
        out_r, out_w = os.pipe()  # Chromium writes on fd 4, we read

        def to_3_and_4():  # runs in the child between fork and exec
            a, b = os.dup(cmd_r), os.dup(out_w)  # out of the way of 3 and 4 first
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [exe, "--headless", "--remote-debugging-pipe", "--no-sandbox", "--disable-gpu",
                "--enable-unsafe-swiftshader", f"--user-data-dir={profile}", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--disable-sync",
                "--disable-background-networking", "--disable-component-update",
                "--host-resolver-rules=MAP * ~NOTFOUND", "--hide-scrollbars", "--mute-audio",
                "about:blank"]
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, close_fds=False,
                                     preexec_fn=to_3_and_4)
        os.close(cmd_r)
        os.close(out_w)
        self.w, self.r = cmd_w, out_r
        self.buf = b""
        self.n = 0
        self.events: list[dict[str, Any]] = []
        self.responses: dict[int, dict[str, Any]] = {}

    def _receive(self, timeout: float) -> None:
        while b"\0" not in self.buf:
            ready, _, _ = select.select([self.r], [], [], max(0.0, timeout))
            if not ready:
                raise TimeoutError("Chromium did not answer in time")
            chunk = os.read(self.r, 1 << 20)
            if not chunk:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RuntimeError(f"Chromium closed the DevTools pipe: {err[-2000:]}")
            self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        msg = json.loads(raw)
        if "id" in msg:
            self.responses[msg["id"]] = msg
            return
        self.events.append(msg)
        if msg.get("method") == "Target.attachedToTarget":  # a frame in its own process
            self._instrument(msg["params"]["sessionId"])
            self.send("Runtime.runIfWaitingForDebugger", session=msg["params"]["sessionId"])

    def send(self, method: str, params: dict | None = None, *, session: str | None = None,
             timeout: float = 60.0) -> dict[str, Any]:
        self.n += 1
        mid = self.n
        msg: dict[str, Any] = {"id": mid, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.w, json.dumps(msg).encode() + b"\0")
        end = time.monotonic() + timeout
        while mid not in self.responses:
            self._receive(end - time.monotonic())
        reply = self.responses.pop(mid)
        if "error" in reply:
            raise RuntimeError(f"{method}: {reply['error']}")
        return reply.get("result", {})

    def _instrument(self, session: str) -> None:
        for domain in ("Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Target.setAutoAttach", {"autoAttach": True, "waitForDebuggerOnStart": True,
                                           "flatten": True}, session=session)

    def pump(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            try:
                self._receive(end - time.monotonic())
            except TimeoutError:
                return

    def wait_for(self, method: str, start: int, timeout: float = 60.0) -> None:
        """Wait for an event ``method`` after the first ``start`` events."""
        end = time.monotonic() + timeout
        while not any(e.get("method") == method for e in self.events[start:]):
            self._receive(end - time.monotonic())

    def evaluate(self, expression: str, session: str, *, timeout: float = 60.0) -> Any:
        out = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                             "awaitPromise": True}, session=session,
                        timeout=timeout)
        if "exceptionDetails" in out:
            raise RuntimeError(f"page script failed: {out['exceptionDetails']}")
        return out["result"].get("value")

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except (OSError, RuntimeError, TimeoutError):
            pass
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.w, self.r):
            os.close(fd)
        if self.proc.stderr:
            self.proc.stderr.close()


@dataclass
class PageLoad:
    """What happened when Chromium opened the page."""

    url: str
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    probe: dict[str, Any] = field(default_factory=dict)
    screenshot: np.ndarray | None = None  # (height, width, 3) uint8
    png: bytes = b""


_PROBE = """(() => {
  const box = e => { const r = e.getBoundingClientRect();
    return [r.left + scrollX, r.top + scrollY, r.width, r.height]; };
  const all = s => [...document.querySelectorAll(s)].map(box);
  return {title: document.title, pwned: window.pwned === 1,
    scripts: document.querySelectorAll('script').length,
    handlers: [...document.querySelectorAll('*')].flatMap(e =>
      [...e.attributes].filter(a => a.name.startsWith('on')).map(a => a.name)),
    broken: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).length,
    n_images: document.images.length,
    badge: all('#verdict-badge'), maps: all('#map-grid img'),
    galleries: all('#gallery-pairs, #gallery-negatives, #gallery-rejections'),
    view3d: all('#view3d'),
    height: document.documentElement.scrollHeight};
})()"""

_SHOW_3D = """(() => {
  const f = document.getElementById('view3d');
  if (f) f.scrollIntoView();
  return !!f;
})()"""
_PLOT_DRAWN = "!!document.querySelector('#surface-plot canvas')"


def _wait_for_3d(b: _DevTools, timeout: float = 30.0) -> None:
    """Wait until the 3-D frame (its own process: a target) has drawn its WebGL canvas."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        frames = [e["params"]["sessionId"] for e in b.events
                  if e.get("method") == "Target.attachedToTarget"
                  and e["params"]["targetInfo"].get("type") == "iframe"]
        if frames and any(b.evaluate(_PLOT_DRAWN, f) for f in frames):
            b.pump(1.0)  # let WebGL finish the first frame
            return
        b.pump(0.25)
    raise TimeoutError("the interactive 3-D view did not draw within "
                       f"{timeout:.0f} s")


def load_in_chromium(exe: str, page: Path, *, width: int = 1400) -> PageLoad:
    """Open ``page`` in headless Chromium; record errors and requests; screenshot it."""
    from PIL import Image

    url = page.resolve().as_uri()
    out = PageLoad(url)
    with tempfile.TemporaryDirectory(prefix="bc-chromium-") as profile:
        b = _DevTools(exe, Path(profile))
        try:
            target = b.send("Target.createTarget", {"url": "about:blank"})["targetId"]
            s = b.send("Target.attachToTarget", {"targetId": target, "flatten": True}
                       )["sessionId"]
            b._instrument(s)
            b.send("Page.enable", session=s)
            b.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": 1000,
                                                          "deviceScaleFactor": 1,
                                                          "mobile": False}, session=s)
            start = len(b.events)
            b.send("Page.navigate", {"url": url}, session=s)
            b.wait_for("Page.loadEventFired", start)
            if b.evaluate(_SHOW_3D, s):
                _wait_for_3d(b)
            b.evaluate("window.scrollTo(0, 0)", s)
            height = int(b.evaluate("document.documentElement.scrollHeight", s))
            # the viewport as tall as the page: a plain resize, then a plain screenshot
            b.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height,
                                                          "deviceScaleFactor": 1,
                                                          "mobile": False}, session=s)
            b.pump(1.5)
            out.probe = b.evaluate(_PROBE, s)
            out.png = base64.b64decode(b.send("Page.captureScreenshot", {"format": "png"},
                                              session=s)["data"])
            b.pump(0.5)
        finally:
            b.close()
    out.screenshot = np.asarray(Image.open(io.BytesIO(out.png)).convert("RGB"))
    for e in b.events:
        m, p = e.get("method"), e.get("params", {})
        if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.errors.append("console: " + " ".join(str(a.get("value", a.get("description")))
                                                     for a in p.get("args", [])))
        elif m == "Runtime.exceptionThrown":
            d = p["exceptionDetails"]
            out.errors.append("exception: " + d.get("exception", {}).get("description",
                                                                         d.get("text", "")))
        elif m == "Log.entryAdded" and p["entry"].get("level") == "error":
            out.errors.append(f"log ({p['entry'].get('source')}): {p['entry'].get('text')}")
        elif m == "Network.requestWillBeSent":
            out.requests.append(p["request"]["url"])
    return out


def _foreign(load: PageLoad) -> list[str]:
    return [u[:120] for u in load.requests if u != load.url and not u.startswith("data:")]


def _assert_drawn(shot: np.ndarray, box: list[float], what: str) -> None:
    x, y, w, h = (round(v) for v in box)
    assert w > 50 and h > 50, f"{what} has no size: {box}"
    crop = shot[y:y + h, x:x + w].astype(float)
    assert crop.shape[0] == h and crop.shape[1] == w, f"{what} lies outside the screenshot"
    inked = (np.abs(crop - 255).sum(axis=2) > 60).mean()
    assert crop.std() > 20 and inked > 0.05, f"{what} looks blank (std {crop.std():.1f}, " \
                                             f"{inked:.1%} non-white)"


def test_report_loads_offline_in_chromium(chromium, faces_report):
    path, page = faces_report
    load = load_in_chromium(chromium, path)
    assert not load.errors, load.errors
    assert not _foreign(load), _foreign(load)
    assert load.url in load.requests  # the recorder did see the page's own load
    probe = load.probe
    assert probe["broken"] == 0 and probe["n_images"] > 20
    assert probe["title"].startswith("braincause report: faces")
    assert load.screenshot.shape[0] == probe["height"]
    _assert_drawn(load.screenshot, probe["badge"][0], "verdict badge")
    assert len(probe["maps"]) == 4
    for i, box in enumerate(probe["maps"]):
        _assert_drawn(load.screenshot, box, f"surface map {i}")
    assert len(probe["galleries"]) == 3
    for i, box in enumerate(probe["galleries"]):
        _assert_drawn(load.screenshot, box, f"gallery {i}")
    if 'id="view3d"' in page:
        _assert_drawn(load.screenshot, probe["view3d"][0], "3-D view")


def test_injected_script_does_not_run_in_chromium(chromium, run_dir, fast_maps):
    _inject(run_dir)
    path = write_report(run_dir, interactive=False)
    load = load_in_chromium(chromium, path)
    assert not load.errors, load.errors  # a blocked inline script would log a CSP error
    assert not _foreign(load), _foreign(load)  # the injected <img src=x> was never created
    probe = load.probe
    # a payload that ran would have set the title to "pwned"; here it is shown as text
    assert not probe["pwned"] and probe["title"].startswith("braincause report: <script>")
    assert probe["scripts"] == 0 and probe["handlers"] == []


# --------------------------------------------------------------------------- docs


def _main(argv: list[str]) -> int:
    """``python tests/test_report.py RUN_DIR OUT.png``: screenshot a run's report."""
    if len(argv) != 2:
        print(__doc__)
        return 2
    exe = _chromium()
    if exe is None:
        print("chromium not found", file=sys.stderr)
        return 1
    report = Path(argv[0]) / "report.html"
    if not report.exists():
        write_report(argv[0])
    load = load_in_chromium(exe, report)
    if load.errors or _foreign(load):
        print("errors:", load.errors, "requests:", _foreign(load), file=sys.stderr)
        return 1
    Path(argv[1]).write_bytes(load.png)
    print(f"{argv[1]}: {load.screenshot.shape[1]} x {load.screenshot.shape[0]} px")
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
