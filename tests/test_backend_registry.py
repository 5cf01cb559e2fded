"""The backend registry: a kind registered in a role's table is selectable from a config.

Also: the flat endpoint keys of ``[backends.writer]`` / ``[backends.verifier]``, the
config reference of ``localize --help`` generated from the dataclasses, and the role
Protocols' declared capabilities. Nothing here loads a model.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from braincause.config import (
    BACKENDS,
    BackendKind,
    ConfigError,
    EndpointConfig,
    LocalizeConfig,
    StatsConfig,
    config_help,
    register_backend,
)
from braincause.exceptions import UserInputError


class DummyWriter:
    """A prompt writer that only records how it was built."""

    def __init__(self, section, ctx):
        self.section, self.ctx = section, ctx
        self.config = {"name": "dummy", "batch_size": section.batch_size}


def make_dummy(section, ctx):
    return DummyWriter(section, ctx)


@pytest.fixture
def dummy_writer(monkeypatch):
    monkeypatch.setitem(BACKENDS, "writer", dict(BACKENDS["writer"]))
    register_backend("writer", "dummy", make_dummy)
    return "dummy"


def test_a_registered_writer_is_selectable_from_a_config(dummy_writer, tmp_path):
    from braincause.backends import build_roles

    f = tmp_path / "c.toml"
    f.write_text('[stimuli]\nverifier = "oracle"\n[backends.writer]\nkind = "dummy"\n'
                 'batch_size = 3\n')
    cfg = LocalizeConfig.from_toml(f)
    roles = build_roles(cfg, use_cache=False)
    assert isinstance(roles.writer, DummyWriter)
    assert roles.writer.section is cfg.backends.writer and roles.writer.ctx.cfg is cfg
    assert roles.kinds["writer"] == "dummy" and roles.as_kwargs()["writer"] is roles.writer
    # the other roles are the embedded defaults, sized by the backbone
    assert roles.generator.image_size == roles.backbone.image_size
    assert 'kind = "embedded" | "chat" | "dummy"' in config_help()


def test_an_unregistered_kind_names_the_registered_ones(dummy_writer):
    with pytest.raises(ConfigError, match=r"backends\.writer\.kind must be one of 'embedded', "
                                          r"'chat', 'dummy', got 'gpt'"):
        LocalizeConfig.from_dict({"backends": {"writer": {"kind": "gpt"}}})
    with pytest.raises(UserInputError, match="unknown role"):
        register_backend("painter", "x", make_dummy)


def test_a_factory_named_by_module_path_is_imported_when_chosen(monkeypatch):
    from braincause.backends import build_roles

    monkeypatch.setitem(BACKENDS, "writer", {**BACKENDS["writer"],
                                             "lazy": BackendKind(f"{__name__}:make_dummy")})
    cfg = LocalizeConfig.from_dict({"stimuli": {"verifier": "oracle"},
                                    "backends": {"writer": {"kind": "lazy"}}})
    assert isinstance(build_roles(cfg, use_cache=False).writer, DummyWriter)


def test_the_probe_verifier_reads_the_runs_backbone():
    from braincause.backends import build_roles

    roles = build_roles(LocalizeConfig(), use_cache=False)
    assert roles.verifier.backbone is roles.backbone
    assert roles.kinds == {"writer": "embedded", "generator": "scene", "editor": "scene",
                           "verifier": "probe", "backbone": "mobilenet",
                           "retriever": "captions"}


def test_synthetic_kinds_are_refused_on_nsd(dummy_writer):
    from braincause.backends import check_real_data_backends

    with pytest.raises(UserInputError) as e:
        check_real_data_backends(LocalizeConfig())
    msg = str(e.value)
    assert "writer = 'embedded', generator = 'scene', editor = 'scene', verifier = 'probe'" \
        in msg
    assert '[backends.writer] kind = "chat" or "dummy", [backends.generator] kind = ' \
        '"diffusers", [backends.editor] kind = "diffusers" or "inpaint", [backends.verifier] ' \
        'kind = "clip", "vlm" or "chat-vlm"' in msg


# ------------------------------------------------------------------ endpoint tables
def test_endpoint_fields_are_written_flat(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[backends.writer]\nkind = "chat"\nbase_url = "http://127.0.0.1:9/v1"\n'
                 'model = "m"\ntimeout_s = 5\n[backends.verifier]\nkind = "chat-vlm"\n'
                 'model = "v"\nmax_retries = 0\n')
    cfg = LocalizeConfig.from_toml(f)
    w, v = cfg.backends.writer, cfg.backends.verifier
    assert w.endpoint == EndpointConfig(base_url="http://127.0.0.1:9/v1", timeout_s=5.0)
    assert v.endpoint == EndpointConfig(max_retries=0)
    # the verifier's endpoint defaults to the writer's URL
    assert v.chat_fields(w)["base_url"] == "http://127.0.0.1:9/v1"
    assert w.chat_fields() == {"base_url": "http://127.0.0.1:9/v1", "model": "m",
                               "api_key_env": "OPENAI_API_KEY", "timeout_s": 5.0,
                               "max_retries": 4, "backoff_s": 1.0, "max_concurrency": 4,
                               "temperature": 0.7, "json_mode": True, "send_seed": True,
                               "max_tokens": None}
    d = cfg.to_dict()["backends"]
    assert "endpoint" not in d["writer"] and d["writer"]["timeout_s"] == 5.0
    assert d["verifier"]["max_retries"] == 0 and d["verifier"]["base_url"] is None
    assert set(d["verifier"]) == {f.name for f in dataclasses.fields(type(v))
                                  if f.name != "endpoint"} | set(EndpointConfig().__dict__)
    assert LocalizeConfig.from_dict(cfg.to_dict()) == cfg


def test_an_endpoint_sub_table_is_not_a_field():
    with pytest.raises(ConfigError, match=r"unknown field\(s\) \['endpoint'\] in "
                                          r"\[backends.writer\]; known: \['api_key_env'"):
        LocalizeConfig.from_dict({"backends": {"writer": {"endpoint": {"base_url": "x"}}}})
    with pytest.raises(ConfigError, match=r"backends\.verifier\.timeout_s must be float"):
        LocalizeConfig.from_dict({"backends": {"verifier": {"timeout_s": "soon"}}})


# ------------------------------------------------------------------ --help
def test_config_help_comes_from_the_dataclasses(monkeypatch):
    text = config_help()
    assert "  [stats]     alpha = 0.05, n_baselines = 24" in text
    assert 'rule = "top_k" | "causal_positive"' in text
    assert "[backends.verifier]" in text and "timeout_s = 120.0" in text
    assert max(len(line) for line in text.splitlines()) <= 90
    # another default is listed as soon as the dataclass says so
    changed = dataclasses.make_dataclass("StatsConfig", [("alpha", float, 0.01)], frozen=True)
    monkeypatch.setattr("braincause.config.StatsConfig", changed)
    assert "  [stats]     alpha = 0.01\n" in config_help()
    assert StatsConfig.alpha == 0.05


# ------------------------------------------------------------------ protocols
def test_role_protocols_declare_capabilities():
    from braincause.encoding import Backbone, BrainEncoder
    from braincause.encoding.ridge import RidgeEncoder
    from braincause.retrieval import CaptionIndex, Retriever
    from braincause.stimuli.generate import (
        BatchImageGenerator,
        ImageEditor,
        ImageGenerator,
        SceneEditor,
        SceneGenerator,
    )
    from braincause.stimuli.verifier import ConceptVerifier, OracleVerifier

    oracle = OracleVerifier()
    assert isinstance(oracle, ConceptVerifier) and oracle.needs_scenes \
        and not oracle.needs_images and isinstance(oracle.accuracy(), dict)
    assert "needs_images" in ConceptVerifier.__annotations__
    assert "image_size" in Backbone.__annotations__
    gen = SceneGenerator(32)
    assert isinstance(gen, ImageGenerator) and not isinstance(gen, BatchImageGenerator)
    assert isinstance(SceneEditor(32), ImageEditor)
    rng = np.random.default_rng(0)
    enc = RidgeEncoder(alphas=(1.0,), cv=2).fit(rng.normal(size=(12, 3)),
                                               rng.normal(size=(12, 4)))
    assert isinstance(enc, BrainEncoder) and enc.predict(np.zeros((2, 3))).shape == (2, 4)

    class Words:
        def encode(self, texts, batch_size=64):
            out = np.array([[len(t), 1.0] for t in texts], np.float32)
            return out / np.linalg.norm(out, axis=1, keepdims=True)

        def fingerprint(self):
            return "words"

    index = CaptionIndex([["a cat"], ["a big dog"]], Words())
    assert isinstance(index, Retriever) and index.similarity("cat").shape == (2,)
