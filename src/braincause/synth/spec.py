"""Scene constraints: what a prompt or a concept asks of a sampled scene."""

from __future__ import annotations

from dataclasses import dataclass, field

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class Requirement:
    """At least ``count`` instances of ``category``, optionally with a colour or pose.

    Attributes
    ----------
    category : str
        An object category of the world (``"dog"``).
    count : int, default=1
        The fewest instances the scene must have.
    color : tuple of 3 int or None, default=None
        RGB colour the instances must have; None leaves it to the priors.
    pose : str or None, default=None
        Pose the instances must take (``"running"``...); None leaves it to the priors.
    """

    category: str
    count: int = 1
    color: RGB | None = None
    pose: str | None = None


@dataclass(frozen=True)
class SceneSpec:
    """Constraints on a sampled scene; everything unspecified comes from the priors.

    Attributes
    ----------
    context : str or None
        Force this context.
    require : tuple of Requirement
        Categories that must appear.
    require_any : tuple of tuple of str
        For each inner tuple, at least one of its categories must appear (groups).
    forbid : frozenset of str
        Categories that must not appear (not even as parts).
    compositions : frozenset of str
        Composition concepts to stage (``person_surfing``, ``social_interaction``,
        ``hands_in_action``, ``person_running``, ``person_jumping``).
    unknown : tuple of str
        Words of the source prompt the grammar could not place (reported, never dropped).
    """

    context: str | None = None
    require: tuple[Requirement, ...] = ()
    require_any: tuple[tuple[str, ...], ...] = ()
    forbid: frozenset[str] = field(default_factory=frozenset)
    compositions: frozenset[str] = field(default_factory=frozenset)
    unknown: tuple[str, ...] = ()

    def merged(self, other: SceneSpec) -> SceneSpec:
        """Both sets of constraints (``other``'s context wins when both set one).

        Parameters
        ----------
        other : SceneSpec

        Returns
        -------
        SceneSpec
            Requirements, groups and unknown words concatenated; forbidden categories and
            compositions united.
        """
        return SceneSpec(
            context=other.context or self.context,
            require=self.require + other.require,
            require_any=self.require_any + other.require_any,
            forbid=self.forbid | other.forbid,
            compositions=self.compositions | other.compositions,
            unknown=self.unknown + other.unknown,
        )

    def required_categories(self) -> set[str]:
        """The categories :attr:`require` asks for.

        Returns
        -------
        set of str
        """
        return {r.category for r in self.require}

    def is_empty(self) -> bool:
        """Whether the spec constrains nothing (unknown words aside).

        Returns
        -------
        bool
        """
        return not (self.context or self.require or self.require_any or self.forbid
                    or self.compositions)
