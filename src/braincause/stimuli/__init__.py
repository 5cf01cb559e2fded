"""Stimuli: generate, edit and verify the images of a concept's causal dataset.

Roles (protocols) and their embedded implementations:

* ``ImageGenerator`` — :class:`~braincause.stimuli.generate.SceneGenerator`
* ``ImageEditor`` — :class:`~braincause.stimuli.generate.SceneEditor`
* ``ConceptVerifier`` — :class:`~braincause.stimuli.verifier.ProbeVerifier` (linear probes
  on backbone features) and :class:`~braincause.stimuli.verifier.OracleVerifier`

:func:`~braincause.stimuli.dataset.build_causal_dataset` runs plan → generate → edit →
features → verify, caching each stage on disk by content hash so an interrupted run
resumes where it stopped.
"""
