"""What a run is about and what it runs with: the data source (synthetic world or NSD),
chosen once, and the :class:`RunContext` every stage reads (subject, roles, encoder,
verifier, retrieval)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from braincause.boundary import nsd_subject_number
from braincause.config import LocalizeConfig
from braincause.exceptions import UserInputError

Progress = Callable[[str], None]


def _quiet(_msg: str) -> None:
    return None


@dataclass(frozen=True)
class ResolvedQuery:
    """The user's query and the vocabulary concept it names, how it was resolved and
    with what similarity.

    Attributes
    ----------
    query : str
        The text the user typed.
    concept : object
        The vocabulary entry (``name``, ``label``, ``kind``, ``description``).
    how : str
        How it was resolved (name, synonym, embedding, NSD free text…).
    score : float or None
        The embedding similarity, when resolved by embedding.
    """

    query: str
    concept: Any
    how: str
    score: float | None

    @property
    def name(self) -> str:
        """The concept's identifier."""
        return self.concept.name

    @property
    def label(self) -> str:
        """The concept's label (what prompts and retrieval use)."""
        return self.concept.label


class SyntheticWorld:
    """The embedded default: synthetic subjects, the world's vocabulary, baseline
    concepts from it, ground truth for every run."""

    real = False
    #: extra advice when no positive survives verification
    empty_hint = "stimuli.verifier = \"oracle\", "

    def resolve(self, query: str) -> ResolvedQuery:
        """The vocabulary concept of ``query`` (name, synonym or free text).

        Parameters
        ----------
        query : str

        Returns
        -------
        ResolvedQuery
        """
        from braincause.concepts import resolve_with_score

        concept, how, score = resolve_with_score(query)
        return ResolvedQuery(query, concept, how, score)

    def load_subject(self, subject: str, cfg: LocalizeConfig, progress: Progress | None = None):
        """The synthetic subject ``subject`` (built and cached on first use).

        Parameters
        ----------
        subject : str
        cfg : LocalizeConfig
            Unused here (the NSD source reads ``cfg.nsd``).
        progress : callable, optional
            Hears the rendering's counts while the subject is built.

        Returns
        -------
        SyntheticSubject
        """
        from braincause.datasets.synthetic import load_subject

        return load_subject(subject, progress=progress)

    def baselines(self, target: ResolvedQuery, n: int, counters: list[Any]) -> list[str]:
        """``n`` baseline concepts for ``target`` (:func:`baseline_concepts`), none of
        them one of its counter-concepts.

        Parameters
        ----------
        target : ResolvedQuery
        n : int
        counters : list of CounterConcept

        Returns
        -------
        list of str
        """
        return baseline_concepts(target.name, n, {c.name for c in counters})

    def baseline_label(self, name: str) -> str:
        """The label of baseline concept ``name`` (for retrieval).

        Parameters
        ----------
        name : str

        Returns
        -------
        str
        """
        from braincause.synth.concepts import CONCEPTS

        return CONCEPTS[name].label


@dataclass(frozen=True)
class NSDData:
    """A local NSD copy (``docs/nsd.md``): the query taken as it is (or its vocabulary
    entry), an :class:`~braincause.datasets.nsd.NSDSubject`, the configured real
    backends, everyday baseline concepts, no ground truth.

    Attributes
    ----------
    root : Path
        The NSD copy.
    """

    root: Path
    real = True
    empty_hint = ""

    def resolve(self, query: str) -> ResolvedQuery:
        """The query as it is, or its vocabulary entry.

        Parameters
        ----------
        query : str

        Returns
        -------
        ResolvedQuery
        """
        from braincause.concepts.everyday import query_concept

        concept = query_concept(query)
        return ResolvedQuery(query, concept, concept.resolved_by, None)

    def load_subject(self, subject: Any, cfg: LocalizeConfig, progress: Progress | None = None):
        """The NSD subject (:func:`load_nsd_subject`), after checking that every role
        is a real backend.

        Parameters
        ----------
        subject : int or str
        cfg : LocalizeConfig
        progress : callable, optional
            Unused (NSD betas are read, not built).

        Returns
        -------
        NSDSubject
        """
        from braincause.backends import check_real_data_backends

        subj = load_nsd_subject(self.root, subject, cfg)
        check_real_data_backends(cfg)
        return subj

    def baselines(self, target: ResolvedQuery, n: int, counters: list[Any]) -> list[str]:
        """``n`` everyday baseline concepts unrelated to ``target`` and its
        counter-concepts.

        Parameters
        ----------
        target : ResolvedQuery
        n : int
        counters : list of CounterConcept

        Returns
        -------
        list of str
        """
        from braincause.concepts.everyday import everyday_baselines

        return everyday_baselines(target.name, target.label, n,
                                  [x for c in counters for x in (c.name, c.label)])

    def baseline_label(self, name: str) -> str:
        """The label of everyday concept ``name``.

        Parameters
        ----------
        name : str

        Returns
        -------
        str
        """
        from braincause.concepts.everyday import EVERYDAY

        return EVERYDAY[name]


def data_source(nsd_root: str | Path | None) -> SyntheticWorld | NSDData:
    """The data source of a run: NSD at ``nsd_root``, else the synthetic world.

    Parameters
    ----------
    nsd_root : path or None

    Returns
    -------
    SyntheticWorld or NSDData
    """
    return SyntheticWorld() if nsd_root is None else NSDData(Path(nsd_root))


def load_nsd_subject(root: str | Path, subject: Any, cfg: LocalizeConfig):
    """The NSD subject ``subject`` (``1``, ``"1"``, ``"subj01"`` or ``"nsd-subj01"``) of the
    NSD copy at ``root``, read as ``cfg.nsd`` says.

    Parameters
    ----------
    root : path
    subject : int or str
    cfg : LocalizeConfig

    Returns
    -------
    NSDSubject

    Raises
    ------
    UserInputError
        ``subject`` is not an NSD subject number.
    DataError
        Files missing (see ``docs/nsd.md``).
    """
    from braincause.datasets.nsd import NSDSubject

    num = nsd_subject_number(subject, "the subject")
    n = cfg.nsd
    return NSDSubject(root, num, vertex_mask=None if n.vertex_mask == "all" else n.vertex_mask,
                      beta_version=n.beta_version, image_size=n.image_size)


def _stable_rank(name: str) -> str:
    import hashlib

    return hashlib.sha256(f"baseline:{name}".encode()).hexdigest()


def baseline_concepts(target: str, n: int, exclude: set[str] = frozenset()) -> list[str]:
    """``n`` concepts distinct from ``target``: no shared member category, not a group or
    composition it belongs to, not one of its counter-concepts (``exclude``). The order
    is a fixed hash order, so targets share baselines (and their cached datasets).

    Parameters
    ----------
    target : str
    n : int
    exclude : set of str

    Returns
    -------
    list of str
    """
    from braincause.synth.concepts import CONCEPTS

    t_members = set(CONCEPTS[target].members)
    out = []
    for name in sorted(CONCEPTS, key=_stable_rank):
        c = CONCEPTS[name]
        if name == target or name in exclude or set(c.members) & t_members:
            continue
        out.append(name)
        if len(out) == n:
            break
    if len(out) < n:
        raise UserInputError(f"only {len(out)} baseline concepts are distinct from {target!r}; "
                             f"lower stats.n_baselines to ≤ {len(out)}")
    return out


def synthetic_baselines(concept: str, cfg: LocalizeConfig, writer) -> list[str]:
    """The baseline concepts ``localize`` tests ``concept`` against in the synthetic world
    with ``cfg``: :func:`baseline_concepts` minus the counter-concepts ``writer`` proposes
    (the plan's counter-concepts are ``writer.counter_concepts(concept, n_counter)``).

    Parameters
    ----------
    concept : str
    cfg : LocalizeConfig
    writer : PromptWriter

    Returns
    -------
    list of str
    """
    n = cfg.stimuli.n_counter
    counters = writer.counter_concepts(concept, n) if n else []
    return baseline_concepts(concept, cfg.stats.n_baselines, {c.name for c in counters})


@dataclass(frozen=True)
class RunContext:
    """Everything the stages of one run share: the configuration, the data source, the
    subject, its fitted encoder and voxel filter, the role implementations (with the
    fitted verifier), the measured-image retrieval, and the encoder's predictions for the
    subject's measured pool.

    Attributes
    ----------
    cfg : LocalizeConfig
    source : SyntheticWorld or NSDData
    subject_id : str
    subj : BrainDataset
    roles : Roles
    fit : EncoderFit
    keep : ndarray of shape (n_voxels,), bool
        The encoder filter.
    index : Retriever
    pool_verifier : PoolVerifier
    pool_features : ndarray of shape (n_images, n_features)
    Y_pool : ndarray of shape (n_images, n_voxels)
    use_cache : bool
    """

    cfg: LocalizeConfig
    source: SyntheticWorld | NSDData
    subject_id: str
    subj: Any
    roles: Any
    fit: Any
    keep: np.ndarray
    index: Any
    pool_verifier: Any
    pool_features: np.ndarray
    Y_pool: np.ndarray
    use_cache: bool = True

    @property
    def n_voxels(self) -> int:
        """The subject's number of voxels."""
        return self.subj.n_voxels

    @property
    def role_kwargs(self) -> dict[str, Any]:
        """The roles as keyword arguments of ``build_causal_dataset``."""
        return self.roles.as_kwargs()

    def predict(self, features: np.ndarray) -> np.ndarray:
        """Predicted responses of images from their backbone features.

        Parameters
        ----------
        features : ndarray of shape (n_images, n_features)

        Returns
        -------
        ndarray of shape (n_images, n_voxels), float32
        """
        return self.fit.encoder.predict(features).astype(np.float32)


def pool_images(subj) -> Callable[[Any], np.ndarray]:
    """``images(indices) -> (n, S, S, 3) uint8``: measured images for a verifier that reads
    pixels (the dataset's default size; NSD: ``nsd.image_size``).

    Parameters
    ----------
    subj : BrainDataset

    Returns
    -------
    callable
    """
    def images(idx) -> np.ndarray:
        return np.stack([np.asarray(subj.image(int(i)), np.uint8) for i in np.asarray(idx)])
    return images


def prepare_run(source: SyntheticWorld | NSDData, subject: Any, cfg: LocalizeConfig, *,
                use_cache: bool = True, progress: Progress | None = None) -> RunContext:
    """Load ``subject``, build the roles of ``cfg``, fit (or load) the encoder and the
    verifier, and index the subject's measured images for retrieval.

    Parameters
    ----------
    source : SyntheticWorld or NSDData
    subject : str or int
    cfg : LocalizeConfig
    use_cache : bool
    progress : callable, optional

    Returns
    -------
    RunContext

    Raises
    ------
    UserInputError
        No voxel passes the encoder filter ``region.r_threshold``.
    """
    from braincause.backends import build_retriever, build_roles
    from braincause.encoding.fit import fit_encoder
    from braincause.evaluate.measured import PoolVerifier

    say = progress or _quiet
    say(f"subject {subject}")
    subj = source.load_subject(subject, cfg, progress=say)
    subject_id = subj.subject_id if source.real else subject
    built = build_roles(cfg, use_cache=use_cache)
    fit = fit_encoder(subj, built.backbone, threshold=cfg.region.r_threshold,
                      use_cache=use_cache, progress=say)
    keep = fit.keep(cfg.region.r_threshold)
    if not keep.any():
        raise UserInputError(f"no voxel of {subject_id} passes the encoder filter r ≥ "
                             f"{cfg.region.r_threshold}; lower region.r_threshold")
    built.verifier = built.verifier.fit(progress=say)
    pool_feats = fit.pool_features()
    Y_pool = fit.encoder.predict(pool_feats).astype(np.float32)
    say("retrieving measured images")
    index = build_retriever(cfg, subj, built)
    scenes = subj.pool.scenes if getattr(built.verifier, "needs_scenes", False) else None
    pv = PoolVerifier(built.verifier, pool_feats, scenes, cfg.stimuli.verifier_threshold,
                      cfg.retrieval.absent_threshold, images=pool_images(subj))
    return RunContext(cfg, source, subject_id, subj, built, fit, keep, index, pv, pool_feats,
                      Y_pool, use_cache)
