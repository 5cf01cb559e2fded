"""Does a different embedded backbone change the causal gate's verdicts? A what-if.

    .venv/bin/python benchmarks/encoder_variants.py --pool grid \
        --out benchmarks/results/verdict-gate/encoder-grid
    .venv/bin/python benchmarks/encoder_variants.py --image-size 224 \
        --concepts hand tools table food --out benchmarks/results/verdict-gate/encoder-224

Runs ``braincause benchmark`` (``--no-null``, one worker, at ``LocalizeConfig``'s defaults)
with the offline MobileNetV2 backbone built with another spatial pooling (``--pool grid``:
2 × 2 cells for the stride ≤ 16 layers, :class:`~braincause.encoding.backbone.MobileNetV2Backbone`)
or input size, instead of the default (``avg``, 160 px). Everything downstream (the subject's
encoder, every prediction) follows from the backbone; the world and the rule are unchanged.

The per-run records go to ``OUT/work`` (the benchmark's record key holds the configuration,
not the backbone, so a variant must not share the default record folder). Compare with the
default's records in ``benchmarks/results/verdict-gate/current/benchmark.json``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_CONCEPTS = ("human_face", "food", "hand", "printed_text", "tools", "animal_face", "sky",
                    "plate", "table", "street", "ball", "dishware")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--pool", choices=("avg", "grid"), default="avg")
    ap.add_argument("--image-size", type=int, default=160)
    ap.add_argument("--concepts", nargs="+", default=list(DEFAULT_CONCEPTS))
    ap.add_argument("--subjects", nargs="+", default=["synth-01"])
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)

    import braincause.backends as backends
    from braincause.cli import main as cli
    from braincause.encoding.backbone import CachedBackbone, MobileNetV2Backbone

    def mobilenet_backbone(bb, ctx):  # the registry looks the builder up by name at call time
        return CachedBackbone(MobileNetV2Backbone(pool=args.pool, image_size=args.image_size))

    backends.mobilenet_backbone = mobilenet_backbone
    return cli(["benchmark", "--concepts", *args.concepts, "--subjects", *args.subjects,
                "--no-null", "--workers", "1", "--work", str(args.out / "work"),
                "--out", str(args.out)])


if __name__ == "__main__":
    sys.exit(main())
