"""The mini synthetic subject and the small run configuration of the tests of the
pipeline's mechanics (run folders, result.json, report and follow-up on a real folder,
CLI exit codes, resume from the cache, staging, determinism).

``synth-01-mini`` is synth-01's true brain measured on a 300-image pool (the first 100
shared and 200 own scenes of synth-01's 3,000; :func:`braincause.synth.pool.pool_sizes`):
its pool, encoder and caption index build in seconds instead of minutes. :data:`MINI`
keeps every stage of ``localize`` but at small sizes, with the embedded probe verifier
trained on a small set (kind ``"probe-mini"``, registered by ``tests/conftest.py``:
200 natural scenes and 8 staged scenes per concept, about 10 s cold instead of 75 s).
Nothing is faked: these runs are the real pipeline on less data. The science on the
full-size subjects (faces land in the face areas, the encoder meets its targets) is
checked by the tests that use ``synth-01`` itself.
"""

from __future__ import annotations

from typing import Any

MINI_SUBJECT = "synth-01-mini"
MINI_NULL_SUBJECT = "synth-null-mini"

#: Probe-verifier training set of kind "probe-mini".
MINI_PROBE = {"n_natural": 200, "n_per_concept": 8}

#: Every stage runs, at sizes that still give each region and criterion data.
MINI: dict[str, dict[str, Any]] = {
    "stimuli": {"n_positive_train": 16, "n_positive_eval": 12, "n_counter": 3,
                "n_negative_prompts": 3, "n_edit_positives_train": 6,
                "n_edit_positives_eval": 4, "n_edits": 2},
    "stats": {"n_baselines": 4, "n_permutations": 50, "n_bootstrap": 50},
    "retrieval": {"top_positive": 80, "max_positive": 24},
    "backends": {"verifier": {"kind": "probe-mini"}},
}

def toml_text(config: dict[str, Any]) -> str:
    """A (nested) config dict of scalars as a TOML file's text (tables, then keys)."""
    def lines(d: dict[str, Any], prefix: str) -> list[str]:
        out = [f"[{prefix}]"] if prefix else []
        out += [f"{k} = {_value(v)}" for k, v in d.items() if not isinstance(v, dict)]
        for k, v in d.items():
            if isinstance(v, dict):
                out += lines(v, f"{prefix}.{k}" if prefix else k)
        return out
    return "\n".join(lines(config, "")) + "\n"


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return f'"{v}"' if isinstance(v, str) else repr(v)


#: :data:`MINI` as a TOML file (checked against it in tests/test_localize.py).
MINI_TOML = toml_text(MINI)


def probe_mini_verifier(section, ctx):
    """The embedded probe verifier on the run's backbone, trained on :data:`MINI_PROBE`
    (a factory for :func:`braincause.config.register_backend`)."""
    from braincause.stimuli.verifier import ProbeVerifier

    return ProbeVerifier(ctx.backbone(), **MINI_PROBE)


def register() -> None:
    """Register the verifier kind ``"probe-mini"`` (a synthetic-world kind)."""
    from braincause.config import register_backend

    register_backend("verifier", "probe-mini", probe_mini_verifier, synthetic=True)
