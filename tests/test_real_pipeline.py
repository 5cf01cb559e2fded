"""``braincause localize`` on real backend code paths and a miniature NSD (issue 8).

The run uses tiny randomly initialised models saved as local folders (a CLIP model as
backbone, verifier and retriever; Stable Diffusion text-to-image and InstructPix2Pix
pipelines as generator and editor) and a fake OpenAI-compatible server on 127.0.0.1 as
prompt writer, all chosen in a TOML config; no synthetic-world component may run. A
second run takes the fake server as VLM verifier and OpenCV inpainting as editor, and
the server dies midway. The verdict of such runs means nothing (random models); the
tests check the plumbing, the outputs' contract, and the errors: a server that is down
or dies midway, weights that are not there.
"""

from __future__ import annotations

import hashlib
import json
import re
import socket
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("transformers")
pytest.importorskip("diffusers")

from braincause.cli import main
from braincause.config import ConfigError, LocalizeConfig
from braincause.datasets.mini_nsd import write_mini_nsd
from fake_openai import FakeOpenAI, chat, error, good_llm, image_of, task
from tiny_models import save_tiny_clip, save_tiny_pipeline

#: result.json keys of a run on real data (tests/test_localize.py's list minus ground_truth)
CONTRACT = ("braincause_version", "query", "concept", "subject", "seed", "config",
            "config_hash", "versions", "backends", "stimuli", "signals", "region",
            "activation_region", "p_values", "voxelwise", "coverage", "verdict", "run")

# The tiny CLIP's P(present) of the tiny generator's images lies around 0.7-0.95 for any
# label; a cut-off of 0.85 keeps about half of them as positives, half as negatives.
SIZES = """
[stimuli]
n_positive_train = 6
n_positive_eval = 5
n_counter = 2
n_negative_prompts = 2
verifier_threshold = 0.85
absent_threshold = 0.85
n_edit_positives_train = 2
n_edit_positives_eval = 2
n_edits = 1
[region]
k = 10
r_threshold = 0.0
[retrieval]
top_positive = 12
max_positive = 8
top_negative = 8
max_negative = 4
[stats]
n_baselines = 2
n_permutations = 50
n_bootstrap = 50
[nsd]
image_size = 48
"""


#: the second run's verifier and editor
CHAT_VLM = 'kind = "chat-vlm"\nmodel = "fake-vlm"\nmax_retries = 1\nbackoff_s = 0.0'
INPAINT = 'kind = "inpaint"\nmask_fraction = 0.4'


def backends_toml(base_url: str, clip: Path, sd: Path, edit: Path, **over: str) -> str:
    """The [backends] tables of the tests; ``over`` replaces a role's table body."""
    tables = {
        "writer": f'kind = "chat"\nbase_url = "{base_url}"\nmodel = "fake-writer"\n'
                  'max_retries = 1\nbackoff_s = 0.0\ntimeout_s = 10.0',
        "generator": f'kind = "diffusers"\nmodel = "{sd}"\npreset = "none"\nsize = 32\n'
                     'steps = 2',
        "editor": f'kind = "diffusers"\nmodel = "{edit}"\npreset = "none"\nsteps = 2\n'
                  'image_guidance_scale = 1.5',
        "verifier": f'kind = "clip"\nmodel = "{clip}"',
        "backbone": f'kind = "clip"\nmodel = "{clip}"',
        "retriever": f'kind = "clip"\nmodel = "{clip}"',
    }
    tables.update(over)
    return '[backends]\ndevice = "cpu"\n' + "".join(
        f"[backends.{k}]\n{v}\n" for k, v in tables.items())


def coin(image: np.ndarray) -> bool:
    """A fake VLM's yes/no: a fixed pseudo-random half of all images."""
    return hashlib.sha256(np.ascontiguousarray(image).tobytes()).digest()[0] < 128


def fake_models(body: dict):
    """Writer requests get a well-behaved LLM's answers, image requests a yes/no."""
    if any(isinstance(m.get("content"), list) for m in body.get("messages", [])):
        return chat("Yes" if coin(image_of(body)) else "No")
    return good_llm(body)


class NoSynthWorld:
    """Fails the test if the synthetic world renders, samples or simulates anything."""

    TARGETS = (("braincause.synth.render", "render"),
               ("braincause.synth.sampler", "sample_scene"),
               ("braincause.synth.sampler", "sample_scenes"),
               ("braincause.datasets.synthetic", "load_subject"),
               ("braincause.synth.subject", "build_subject"))

    def __init__(self, mp: pytest.MonkeyPatch) -> None:
        import importlib

        for module, attr in self.TARGETS:
            mod = importlib.import_module(module)
            if hasattr(mod, attr):
                mp.setattr(mod, attr, self._refuse(f"{module}.{attr}"))

    @staticmethod
    def _refuse(what: str):
        def refuse(*args, **kwargs):
            raise AssertionError(f"the NSD path used the synthetic world: {what}")
        return refuse


@pytest.fixture(scope="module", autouse=True)
def _one_torch_thread():
    """The tiny models are far too small to gain from threads, and on a busy machine idle
    OpenMP threads spinning for work cost more than the models themselves (here 4×)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    write_mini_nsd(root / "nsd", n_sessions=3, trials_per_session=60, n_stimuli=150,
                   n_subject_images=60, n_shared=20, n_vertices=10242, random_state=3)
    return {"root": root, "nsd": root / "nsd", "clip": save_tiny_clip(root / "clip"),
            "sd": save_tiny_pipeline(root / "sd"),
            "edit": save_tiny_pipeline(root / "edit", "instruct-pix2pix")}


def _write_config(path: Path, world, base_url: str, sizes: str = SIZES, **over) -> Path:
    path.write_text(sizes + backends_toml(base_url, world["clip"], world["sd"], world["edit"],
                                          **over))
    return path


def _localize(world, cfg: Path, out: Path, *extra: str) -> int:
    return main(["localize", "red sports car", "--config", str(cfg), "--nsd-root",
                 str(world["nsd"]), "--subject", "1", "--out", str(out), "--quiet", *extra])


@pytest.fixture(scope="module")
def server():
    with FakeOpenAI(fake_models) as s:
        yield s


@pytest.fixture(scope="module")
def run(world, server, tmp_path_factory):
    out = tmp_path_factory.mktemp("out")
    cfg = _write_config(out.parent / "real.toml", world, server.base_url)
    with pytest.MonkeyPatch.context() as mp:
        NoSynthWorld(mp)
        rc = _localize(world, cfg, out)
    return {"rc": rc, "out": out, "cfg": cfg}


# ----------------------------------------------------------------------------- end to end
def test_localize_runs_on_mini_nsd_with_real_backends(run, server):
    assert run["rc"] == 0
    out = run["out"]
    d = json.loads((out / "result.json").read_text())
    assert set(CONTRACT) <= set(d) and "ground_truth" not in d
    assert d["concept"] | {"description": None} == {
        "name": "red_sports_car", "label": "red sports car", "kind": "free text",
        "description": None, "resolved_by": "query", "resolution_score": None}
    assert d["subject"]["id"] == "nsd-subj01" and d["subject"]["dataset"]["name"] == "NSD"
    assert d["verdict"]["verdict"] in ("discovery", "rejected", "needs follow-up",
                                       "inconclusive")
    assert d["region"]["size"] == 10 and len(d["p_values"]["baseline_concepts"]) == 2
    b = d["backends"]
    assert b["writer"]["name"] == "chat" and b["writer"]["base_url"] == server.base_url
    assert b["generator"]["pipeline_class"] == "StableDiffusionPipeline"
    assert b["editor"]["pipeline_class"] == "StableDiffusionInstructPix2PixPipeline"
    assert b["editor"]["call_kwargs"] == {"image_guidance_scale": 1.5}
    assert b["verifier"]["name"] == "clip"
    assert b["backbone_name"].startswith("clip:")
    assert b["roles"] == {"writer": "chat", "generator": "diffusers", "editor": "diffusers",
                          "verifier": "clip", "backbone": "clip", "retriever": "clip"}
    assert b["retriever"]["name"] == "clip"
    assert d["config"]["backends"]["writer"]["kind"] == "chat"
    # everyday baselines, none of them the target's words or its counter-concepts
    assert all("car" not in x for x in d["p_values"]["baseline_concepts"])
    # the writer wrote every kind of text, edits included
    assert {"positive", "counter", "negative", "edit"} <= {task(r["body"])["kind"]
                                                          for r in server.requests}
    ret = d["stimuli"]["retention"]
    assert ret["positive_train"]["kept"] >= 1 and ret["edit_train"]["generated"] >= 1


def test_outputs_on_real_data(run):
    out = run["out"]
    html = (out / "report.html").read_text()
    assert "red sports car" in html and "<html" in html.lower()
    with np.load(out / "maps.npz", allow_pickle=False) as z:
        keys = set(z.files)
    assert {"vertex", "hemi", "region", "s_causal"} <= keys
    assert not keys & {"truth", "area_names", "area_kinds", "area_extents"}
    manifest = json.loads((out / "stimuli" / "manifest.json").read_text())
    files = [e["file"] for e in manifest if e["file"]]
    assert files and all((out / "stimuli" / f).is_file() for f in files)
    assert {e["role"] for e in manifest} == {"positive", "negative", "edit", "control"}


def test_failure_at_the_last_step_leaves_the_folder_as_it_was(world, server, run, tmp_path,
                                                               monkeypatch):
    """A run that fails after everything else is written (here: the report) changes
    nothing in --out: the outputs were staged, and an earlier run's files stay."""
    import braincause.report

    out = tmp_path / "out"
    out.mkdir()
    (out / "result.json").write_text('{"earlier": true}')
    (out / "report.html").write_text("earlier")

    def broken(*a, **k):
        raise RuntimeError("the report failed")

    monkeypatch.setattr(braincause.report, "write_report", broken)
    assert _localize(world, run["cfg"], out) == 1   # an internal error, everything cached
    assert (out / "result.json").read_text() == '{"earlier": true}'
    assert (out / "report.html").read_text() == "earlier"
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "result.json"]


# ----------------------------------------------------------------------------- errors
def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_unreachable_endpoint_exits_2_naming_the_url(world, tmp_path, capsys):
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    out = tmp_path / "out"
    out.mkdir()
    (out / "result.json").write_text('{"earlier": true}')
    cfg = _write_config(tmp_path / "c.toml", world, url)
    assert _localize(world, cfg, out) == 2
    err = capsys.readouterr().err
    assert f"{url}/chat/completions" in err and "backends.writer" in err
    assert "vllm serve" in err and len(err.strip().splitlines()) == 1
    assert (out / "result.json").read_text() == '{"earlier": true}'  # nothing lost


TINY = re.sub(r"(n_positive_train|n_positive_eval|n_negative_prompts|n_counter|"
              r"n_edit_positives_train|n_edit_positives_eval) = \d+", r"\1 = 1", SIZES)


def test_endpoint_dying_midway_leaves_no_result(world, tmp_path, capsys):
    """A fake VLM verifier (and OpenCV inpainting) that says yes to every generated image,
    then fails once the edits are to be judged: images were generated and edited, the run
    stops with exit 2 and leaves no result."""
    state = {"edits": False, "judged_after": 0}

    def dies(body):
        if any(isinstance(m.get("content"), list) for m in body["messages"]):
            if state["edits"]:
                state["judged_after"] += 1
                return error(503, "the GPU fell off the bus")
            return chat("Yes")
        if task(body)["kind"] == "edit":
            state["edits"] = True
        return good_llm(body)

    out = tmp_path / "out"
    with FakeOpenAI(dies) as s:
        url = s.base_url
        cfg = _write_config(tmp_path / "c.toml", world, url, TINY, verifier=CHAT_VLM,
                            editor=INPAINT)
        rc = _localize(world, cfg, out)
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert rc == 2 and "kept failing" in err and url in err and state["judged_after"] >= 1
    assert not (out / "result.json").exists() and not (out / "report.html").exists()


@pytest.mark.parametrize("role, body, model", [
    ("backbone", 'kind = "clip"\nmodel = "acme/clip-not-cached"', "acme/clip-not-cached"),
    ("generator", 'kind = "diffusers"\nmodel = "acme/sd-not-cached"\npreset = "none"',
     "acme/sd-not-cached"),
    ("verifier", 'kind = "clip"\nmodel = "acme/clip-not-cached"', "acme/clip-not-cached"),
])
def test_missing_weights_offline_exit_2_naming_the_model(world, server, tmp_path, monkeypatch,
                                                         capsys, role, body, model):
    home = tmp_path / "hf-home"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    cfg = _write_config(tmp_path / "c.toml", world, server.base_url, **{role: body})
    out = tmp_path / "out"
    assert _localize(world, cfg, out) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]   # after any loading bars
    assert err.startswith(f"braincause: error: [backends.{role}] ")
    assert model in err and f"hf download {model}" in err and "HF_HUB_OFFLINE" in err
    assert not (out / "result.json").exists()
    assert not [p for p in home.rglob("*") if p.suffix in (".safetensors", ".bin")]


def test_nsd_refuses_synthetic_world_backends(world, tmp_path, capsys):
    """The default (embedded) roles need scene records: not on NSD."""
    cfg = tmp_path / "c.toml"
    cfg.write_text(SIZES)
    assert _localize(world, cfg, tmp_path / "out") == 2
    err = capsys.readouterr().err
    assert "needs real backends" in err and "writer = 'embedded'" in err
    assert "verifier = 'probe'" in err


def test_nsd_root_needs_an_nsd_subject(world, tmp_path, capsys):
    assert main(["localize", "dog", "--nsd-root", str(world["nsd"]), "--quiet",
                 "--out", str(tmp_path / "o")]) == 2
    assert "--subject 1" in capsys.readouterr().err
    assert main(["localize", "dog", "--nsd-root", str(world["nsd"]), "--subject", "synth-01",
                 "--quiet", "--out", str(tmp_path / "o")]) == 2
    assert "NSD subject number" in capsys.readouterr().err


# ----------------------------------------------------------------------------- config
def _docs_config() -> str:
    text = (Path(__file__).parents[1] / "docs" / "backends.md").read_text()
    part = text.split("## Selecting backends in a config file", 1)[1]
    return re.search(r"```toml\n(.*?)```", part, re.S).group(1)


def test_docs_example_config_is_valid(tmp_path):
    f = tmp_path / "real.toml"
    f.write_text(_docs_config())
    cfg = LocalizeConfig.from_toml(f)
    b = cfg.backends
    assert (b.writer.kind, b.generator.kind, b.editor.kind, cfg.verifier, b.backbone.kind,
            b.retriever.kind) == ("chat", "diffusers", "diffusers", "vlm", "clip", "clip")
    assert LocalizeConfig.from_dict(cfg.to_dict()) == cfg
    assert cfg.hash() != LocalizeConfig().hash()


@pytest.mark.parametrize("toml, field", [
    ('[backends.writer]\nkind = "gpt"', "backends.writer.kind"),
    ('[backends.writer]\nkind = "chat"\nmodel = "m"', "backends.writer.base_url"),
    ('[backends.verifier]\nkind = "chat-vlm"\nmodel = "m"', "backends.verifier.base_url"),
    ('[backends.generator]\nsteps = "many"', "backends.generator.steps"),
    ('[backends.editor]\nkind = "inpaint"\nmask = "sam"', "backends.editor.mask"),
    ('[backends]\nverifier = "clip"', "[backends.verifier] must be a table"),
    ('[backends.backbone]\nkind = "clip"\nweights = "x"', "unknown field(s) ['weights']"),
    ('[nsd]\nvertex_mask = "everything"', "nsd.vertex_mask"),
])
def test_bad_backend_configs_name_the_field(tmp_path, toml, field):
    f = tmp_path / "bad.toml"
    f.write_text(toml)
    with pytest.raises(ConfigError) as e:
        LocalizeConfig.from_toml(f)
    assert field in str(e.value)


def test_verifier_selection_and_the_cli_flag():
    cfg = LocalizeConfig.from_dict({"backends": {"verifier": {"kind": "clip"}}})
    assert cfg.verifier == "clip" and LocalizeConfig().verifier == "probe"
    assert LocalizeConfig.from_dict({"stimuli": {"verifier": "oracle"}}).verifier == "oracle"


# ----------------------------------------------------------------------------- parts
def test_pool_verifier_judges_only_examined_images_once():
    from braincause.evaluate.measured import PoolVerifier

    class Pixels:
        needs_scenes, needs_images = False, True

        def __init__(self):
            self.calls = []

        def presence(self, concept, *, images=None, features=None, scenes=None):
            self.calls.append((concept, len(images)))
            return images.reshape(len(images), -1).mean(axis=1) / 255.0

    pool = np.stack([np.full((4, 4, 3), v, np.uint8) for v in (10, 200, 240, 30, 150)])
    v = Pixels()
    pv = PoolVerifier(v, np.zeros((5, 2)), None, 0.5, 0.1, images=lambda idx: pool[idx])
    np.testing.assert_array_equal(pv.present("x")[np.array([1, 3])], [True, False])
    np.testing.assert_array_equal(pv.present("x")[np.array([1, 2, 3])], [True, True, False])
    np.testing.assert_array_equal(pv.absent("x")[np.array([0, 4])], [True, False])
    assert v.calls == [("x", 2), ("x", 1), ("x", 2)]   # each image judged once per concept
    with pytest.raises(ValueError, match="images"):
        PoolVerifier(v, np.zeros((5, 2)))


def test_query_concepts_and_everyday_baselines():
    from braincause.concepts.everyday import EVERYDAY, everyday_baselines, query_concept
    from braincause.exceptions import UserInputError

    c = query_concept("a photo of Red sports-cars!")
    assert (c.name, c.label, c.kind, c.resolved_by) == (
        "red_sports_cars", "red sports cars", "free text", "query")
    assert query_concept("faces").name == "human_face"        # the vocabulary's entry
    got = everyday_baselines(c.name, c.label, 30, exclude=["parking meter", "A laptop"])
    assert len(got) == 30 and len(set(got)) == 30 and set(got) <= set(EVERYDAY)
    assert not {"car", "sports_ball", "parking_meter", "laptop"} & set(got)
    food = everyday_baselines("food", "food", 40)
    assert not {"pizza", "cake", "sandwich"} & set(food)       # the group's members
    # one fixed order: unrelated targets share their baselines (and the cached stimuli)
    assert everyday_baselines(c.name, c.label, 5) == everyday_baselines("dog", "dog", 5)
    with pytest.raises(UserInputError, match=r"lower stats\.n_baselines"):
        everyday_baselines(c.name, c.label, 80)


def test_check_reachable_names_url():
    from braincause.exceptions import BackendUnavailable
    from braincause.utils.chat import ChatEndpoint, check_reachable

    ep = ChatEndpoint(f"http://127.0.0.1:{_closed_port()}/v1", "m")
    with pytest.raises(BackendUnavailable, match=re.escape(ep.url)) as e:
        check_reachable(ep, config_section="backends.writer")
    assert "[backends.writer] base_url" in str(e.value)


def test_chat_vlm_open_vocabulary(server):
    from braincause.exceptions import ConceptNotFound
    from braincause.stimuli.vlm import ChatVLMVerifier
    from braincause.utils.chat import ChatEndpoint

    ep = ChatEndpoint(server.base_url, "fake-vlm", max_retries=0)
    imgs = np.random.default_rng(0).integers(0, 256, (3, 8, 8, 3), dtype=np.uint8)
    closed = ChatVLMVerifier(ep, use_cache=False)
    with pytest.raises(ConceptNotFound):
        closed.presence("control_item_a", images=imgs)
    open_ = ChatVLMVerifier(ep, use_cache=False, open_vocabulary=True)
    p = open_.presence("control_item_a", images=imgs)
    np.testing.assert_array_equal(p, [float(coin(i)) for i in imgs])
    assert "control item a" in json.dumps(server.bodies[-1])
    assert open_.config["open_vocabulary"] is True and "open_vocabulary" not in closed.config
