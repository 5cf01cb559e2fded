"""What the ground-truth benchmark compares, shared by its runner
(:mod:`braincause.bench.groundtruth`) and its report
(:mod:`braincause.bench.groundtruth_report`)."""

__all__ = ["ALIGN_K", "METHODS"]

#: Methods compared: name -> (label, ranking signal, discovery rule).
METHODS: dict[str, tuple[str, str, str]] = {
    "max_activation": ("Max Activation (MAG)", "MAG", "activation"),
    "mindsimulator": ("MindSimulator (MAL)", "MAL", "activation"),
    "mindsimulator_vlm": ("MindSimulator+VLM (MALF)", "MALF", "activation"),
    "braincause_paper": ("BrainCause, paper rule (TRAIN S_causal > 0)", "braincause",
                         "train_causal"),
    "braincause": ("braincause, corrected statistics (verdict)", "braincause", "verdict"),
}
#: Region sizes K at which rankings are compared with the ground truth.
ALIGN_K = (100, 200, 500)
