"""Run configuration of ``braincause localize``: TOML ⇄ frozen dataclasses.

A config file mirrors the sections and fields below one to one; every field is
optional (defaults are the paper's numbers where it gives them). Unknown
sections or fields, and values of the wrong type or range, raise
:class:`~braincause.exceptions.ConfigError` naming the field and what was expected::

    [stimuli]
    n_positive_train = 200
    verifier = "probe"          # or "oracle" (exact, for ablations)

    [region]
    k = 100
    rule = "top_k"              # or "causal_positive"

    [stats]
    alpha = 0.05

    [verdict]
    min_measured_positives = 20
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from braincause.exceptions import UserInputError


class ConfigError(UserInputError):
    """A malformed or invalid run configuration."""


RANKINGS = ("braincause", "MAG", "MAM", "MAL", "MALF", "CSG", "CSM", "CSL", "CEG")


@dataclass(frozen=True)
class StimuliConfig:
    """Sizes of the causal dataset (PAPER.md §1) and the verifier."""

    n_positive_train: int = 200
    n_positive_eval: int = 100
    n_counter: int = 10
    n_negative_prompts: int = 10        # per counter-concept and split
    n_edit_positives_train: int = 50
    n_edit_positives_eval: int = 20
    n_edits: int = 10                   # instructions per edited positive
    verifier: str = "probe"             # "probe" | "oracle"
    verifier_threshold: float = 0.5     # positives: P(present) ≥ this
    absent_threshold: float = 0.5       # generated negatives and edits: P(present) < this


@dataclass(frozen=True)
class RegionConfig:
    """How the candidate region is chosen (on the TRAIN split only)."""

    k: int = 100                        # voxels in a top-K region
    rule: str = "top_k"                 # "top_k" | "causal_positive" (S_causal > 0)
    ranking: str = "braincause"         # a signal name of RANKINGS
    r_threshold: float = 0.2            # encoder accuracy filter (held-out Pearson r)
    k_hard: int = 10                    # hardest negatives per voxel in S_neg


@dataclass(frozen=True)
class RetrievalConfig:
    """Measured-pool retrieval (caption embedding + verifier).

    Measured negatives must show the target *confidently* absent (P < 0.1): natural
    images were not made to lack it, and one image with a small, missed face among them
    enters the 10 hardest negatives (on synth-01, 6 % of the held-out images the probe
    calls face-free at 0.5 show a face; 2 % at 0.1).
    """

    top_positive: int = 300             # candidates ranked before verification
    max_positive: int = 100             # kept measured positives per split
    top_negative: int = 100             # candidates per counter-concept (the paper's 100)
    max_negative: int = 20              # kept measured negatives per counter-concept
    absent_threshold: float = 0.1       # measured negatives: target P(present) < this


@dataclass(frozen=True)
class StatsConfig:
    """Statistical testing on the EVAL split and measured data."""

    alpha: float = 0.05
    n_baselines: int = 24               # baseline concepts for empirical p (≥ 19 for 0.05)
    n_permutations: int = 1000          # voxelwise max-T permutations
    n_bootstrap: int = 2000
    ci_level: float = 0.95
    baseline_seed: int = 0              # seed of the shared baseline-concept datasets


@dataclass(frozen=True)
class VerdictConfig:
    """Cut-offs of the verdict (PAPER.md §7 leaves them open; these are ours).

    Coverage is *high* when at least ``min_measured_positives`` measured positives were
    retrieved and verified in the held-out measured images, and at least
    ``min_counter_coverage`` of the counter-concepts have ≥ ``min_negatives_per_counter``
    measured negatives.

    A criterion passes when its empirical p against the baseline concepts is ≤ alpha
    (the paper's test) and, where ``generated_ci`` / ``measured_ci`` asks for it, its
    one-sided bootstrap lower bound at level alpha exceeds ``min_effect`` (z units).
    Generated evidence is strong when every ``require_generated`` criterion passes and, with
    ``train_causal_positive``, the region's TRAIN-split S_causal is > 0 (the paper's
    rule for a candidate); measured evidence when every ``require_measured`` one does.

    The generated CI is not required by default: predicted responses are shrunk towards
    the mean (the embedded encoder recovers roughly 10–30 % of a true edit effect), and the
    hardest-edit and hardest-negative maxima then pull absolute generated scores to about
    0 even for true representations; the comparison with baseline concepts scored by the
    same encoder is not affected by that shrinkage. Measured responses are not shrunk, so
    their CI is required.
    """

    min_measured_positives: int = 20
    min_negatives_per_counter: int = 3
    min_counter_coverage: float = 0.5
    min_effect: float = 0.0             # lower CI bound must exceed this (z units)
    generated_ci: bool = False
    measured_ci: bool = True
    train_causal_positive: bool = True
    require_generated: tuple[str, ...] = ("causal_gen", "edits")
    require_measured: tuple[str, ...] = ("causal_meas",)


@dataclass(frozen=True)
class LocalizeConfig:
    """Every setting of one ``localize`` run."""

    stimuli: StimuliConfig = field(default_factory=StimuliConfig)
    region: RegionConfig = field(default_factory=RegionConfig)
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)
    stats: StatsConfig = field(default_factory=StatsConfig)
    verdict: VerdictConfig = field(default_factory=VerdictConfig)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: {k: list(v) if isinstance(v, tuple) else v
                         for k, v in dataclasses.asdict(getattr(self, f.name)).items()}
                for f in dataclasses.fields(self)}

    def hash(self) -> str:
        """A short hash of every setting (recorded in result.json)."""
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()
                              ).hexdigest()[:16]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LocalizeConfig:
        if not isinstance(d, dict):
            raise ConfigError(f"a config must be a table of sections, got {type(d).__name__}")
        sections = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - set(sections))
        if unknown:
            raise ConfigError(f"unknown config section(s) {unknown}; known: {sorted(sections)}")
        kw = {}
        for name, value in d.items():
            sub = typing.get_type_hints(cls)[name]
            kw[name] = _section(name, sub, value)
        cfg = cls(**kw)
        cfg.validate()
        return cfg

    @classmethod
    def from_toml(cls, path: str | Path) -> LocalizeConfig:
        path = Path(path)
        try:
            text = path.read_text()
        except OSError as e:
            raise ConfigError(f"cannot read config file {path}: {e.strerror or e}") from e
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path} is not valid TOML: {e}. See `braincause localize "
                              "--help` for the format.") from e
        try:
            return cls.from_dict(data)
        except ConfigError as e:
            raise ConfigError(f"{path}: {e}") from e

    def validate(self) -> None:
        s, r, st, v = self.stimuli, self.region, self.stats, self.verdict
        _check(s.n_positive_train >= 1 and s.n_positive_eval >= 1,
               "stimuli.n_positive_train and n_positive_eval must be ≥ 1")
        for name in ("n_counter", "n_negative_prompts", "n_edit_positives_train",
                     "n_edit_positives_eval", "n_edits"):
            _check(getattr(s, name) >= 0, f"stimuli.{name} must be ≥ 0")
        _check(s.verifier in ("probe", "oracle"),
               f"stimuli.verifier must be 'probe' or 'oracle', got {s.verifier!r}")
        _check(0 < s.verifier_threshold < 1, "stimuli.verifier_threshold must be in (0, 1)")
        _check(0 < s.absent_threshold <= s.verifier_threshold,
               "stimuli.absent_threshold must be in (0, verifier_threshold]")
        _check(r.k >= 1, "region.k must be ≥ 1")
        _check(r.rule in ("top_k", "causal_positive"),
               f"region.rule must be 'top_k' or 'causal_positive', got {r.rule!r}")
        _check(r.ranking in RANKINGS, f"region.ranking must be one of {list(RANKINGS)}, "
               f"got {r.ranking!r}")
        _check(r.k_hard >= 1, "region.k_hard must be ≥ 1")
        _check(0 < self.retrieval.absent_threshold <= s.verifier_threshold,
               "retrieval.absent_threshold must be in (0, stimuli.verifier_threshold]")
        _check(0 < st.alpha < 1, "stats.alpha must be in (0, 1)")
        _check(st.n_baselines >= 1, "stats.n_baselines must be ≥ 1")
        _check(st.n_permutations >= 1 and st.n_bootstrap >= 1,
               "stats.n_permutations and stats.n_bootstrap must be ≥ 1")
        _check(0 < st.ci_level < 1, "stats.ci_level must be in (0, 1)")
        known = {"act_gen", "causal_gen", "edits", "act_meas", "causal_meas"}
        for name in ("require_generated", "require_measured"):
            bad = set(getattr(v, name)) - known
            _check(not bad, f"verdict.{name} has unknown criteria {sorted(bad)}; known: "
                   f"{sorted(known)}")
        _check(0 <= v.min_counter_coverage <= 1, "verdict.min_counter_coverage must be in [0, 1]")


def _check(ok: bool, msg: str) -> None:
    if not ok:
        raise ConfigError(msg)


def _section(name: str, cls: type, value: Any) -> Any:
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table, got {type(value).__name__}")
    hints = typing.get_type_hints(cls)
    unknown = sorted(set(value) - set(hints))
    if unknown:
        raise ConfigError(f"unknown field(s) {unknown} in [{name}]; known: {sorted(hints)}")
    kw = {}
    for k, v in value.items():
        want = hints[k]
        if want is bool or want is str:
            ok = isinstance(v, want)
        elif want is int:
            ok = isinstance(v, int) and not isinstance(v, bool)
        elif want is float:
            ok = isinstance(v, (int, float)) and not isinstance(v, bool)
            v = float(v) if ok else v
        else:  # tuple[str, ...]
            ok = isinstance(v, list) and all(isinstance(x, str) for x in v)
            v = tuple(v) if ok else v
        if not ok:
            tname = getattr(want, "__name__", "list of strings")
            raise ConfigError(f"{name}.{k} must be {tname}, got {v!r}")
        kw[k] = v
    return cls(**kw)
