"""braincause: causal localization of visual concepts in human visual cortex."""

__version__ = "0.1.0.dev0"
