"""braincause: causal localization of visual concepts in human visual cortex.

The public API mirrors the CLI::

    import braincause
    result = braincause.localize("faces", subject="synth-01", out="faces-out")
    result.verdict, result.region, result.to_dict()
    swept = braincause.sweep(["faces", "food"], ["synth-01", "synth-02"], out="sweep-out")

Heavy modules load on first use, so ``import braincause`` stays light.
"""

from braincause._version import __version__ as __version__

__all__ = ["LocalizeConfig", "LocalizeResult", "explain", "load_subject", "localize", "predict",
           "sweep"]


def __getattr__(name: str):
    if name in ("localize", "LocalizeResult"):
        from braincause import pipeline

        return getattr(pipeline, name)
    if name == "sweep":
        from braincause.sweeps import sweep

        return sweep
    if name == "LocalizeConfig":
        from braincause.config import LocalizeConfig

        return LocalizeConfig
    if name == "explain":
        from braincause.explanation import explain

        return explain
    if name == "predict":
        from braincause.prediction import predict

        return predict
    if name == "load_subject":
        from braincause.datasets.synthetic import load_subject

        return load_subject
    raise AttributeError(f"module 'braincause' has no attribute {name!r}")
