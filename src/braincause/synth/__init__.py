"""The embedded synthetic world: scenes, renderer, priors, grammar, interventions, captions."""
