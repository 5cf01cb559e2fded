"""Discovery rate of ``localize`` on the null subject (synth-null).

    .venv/bin/python benchmarks/null_calibration.py --concepts 50 --seeds 2 \
        --out benchmarks/results/null_calibration.json
"""

import sys

from braincause.bench.null import main

if __name__ == "__main__":
    sys.exit(main())
