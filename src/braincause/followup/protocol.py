"""``protocol.md``: the follow-up experiment as a lab would run and analyse it.

Built from the content of design.json only, so it can be regenerated from that file.
"""

from __future__ import annotations

from typing import Any

from braincause.followup.lowlevel import STATISTICS

_WHY = {
    "discovery": (
        "The localize run found a region whose responses favour {c} over its counterfactual "
        "edits and over the semantic negatives that share its cues, in predicted responses "
        "and in the subject's measured images. All of that evidence is either predicted by "
        "an encoding model or retrieved from images the subject happened to see. This "
        "experiment tests the claim directly, with images built to separate {c} from the "
        "cues that co-occur with it."),
    "needs follow-up": (
        "The predicted (generated-image) evidence for {c} is strong, but the subject's "
        "measured images did not hold enough positives or negatives of each counter-concept "
        "to test it on measured data (low coverage). This experiment supplies that missing "
        "measured evidence."),
}
_WHY_OTHER = ("The verdict ({v}) does not call for a follow-up; this design is given for "
              "completeness, and its power analysis shows how much data a test would need.")


def _f(x: Any, nd: int = 2) -> str:
    if x is None:
        return "n/a"
    if isinstance(x, float):
        return f"{x:.{nd}f}"
    return str(x)


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return out + [""]


def protocol_markdown(d: dict[str, Any]) -> str:
    """The protocol text (Markdown) of a design.json dict."""
    s = d["summary"]
    parts = [_intro(d, s), _conditions(d), _stimuli(d), _timing(d, s), _task(d),
             _power(d, s), _analysis(d, s), _limits(d), _files(d)]
    return "\n".join(line for p in parts for line in p).rstrip() + "\n"


def _intro(d, s) -> list[str]:
    src = d["source"]
    c, v = s["concept"], s["verdict"]
    out = [f"# Follow-up fMRI experiment: {c} in {s['subject']}", "",
           f"Designed by braincause {d['braincause_version']} from the localize run "
           f"`{src['run_dir']}` (result.json sha256 `{src['result_sha256'][:12]}…`), seed "
           f"{d['seed']}. Everything below is also in `design.json`.", "",
           "## 1. Why this experiment", "",
           f"Verdict of the localize run: **{v}**.", "",
           _WHY.get(v, _WHY_OTHER).format(c=c, v=v), "", "Reasons given by the verdict:", ""]
    out += [f"- {r}" for r in src["verdict"].get("reasons") or []] + [""]
    reg = src["region"]
    out += [f"**Hypothesis.** In the region ({reg.get('size')} voxels, "
            f"{reg.get('ranking')} ranking, {reg.get('rule')} rule; vertex indices in "
            f"`design.json` → `source.region.voxels`, {src.get('coordinates') or 'subject space'}"
            f"), the response to images of {c} is larger than the response to (a) the same "
            f"scenes with the {c} edited out and (b) the hardest images of each "
            "counter-concept. The region represents the concept itself only if *every* "
            "contrast holds; a failed contrast names the cue it may answer to instead.", ""]
    if str(s["subject"]).startswith("synth"):
        out += [f"*{s['subject']} is a simulated subject: use this design as the template for "
                "a real participant, and define the region in that participant (section 7).*",
                ""]
    return out


def _conditions(d) -> list[str]:
    rows = [[f"`{c['name']}`", c["n_images"], c["n_trials"], c["repeats_per_image"],
             c["why"]] for c in d["conditions"]]
    out = ["## 2. What to show", "",
           f"{len(d['conditions'])} conditions, {len(d['stimuli'])} images. Each image is "
           "shown `repeats` times, spread over the runs.", ""]
    out += _table(["condition (`trial_type`)", "images", "trials", "repeats", "why"], rows)
    miss = [c for c in d["conditions"] if c["kind"] == "missing"]
    if miss:
        out += ["**Missing evidence.** " + ", ".join(f"`{c['name']}`" for c in miss)
                + " fill(s) the gap the verdict points at: counter-concepts of which the "
                "subject's measured images held too few examples to test the cue. These "
                "contrasts are the new information this experiment adds.", ""]
    return out


def _stimuli(d) -> list[str]:
    lo = d["lowlevel"]
    out = ["## 3. Stimuli", "",
           "Images are in `stimuli/` (copies of the localize run's verified images under "
           "stable names: `pos-NN`, `edit-NNa` = edit of `pos-NN`, `neg-<cue>-NN`, "
           "`miss-<cue>-NN`). Show them centred on a mid-grey background at a fixed size "
           "(NSD: 8.4° of visual angle), without rescaling their intensities.", "",
           "Selection: positives with the highest predicted region response (held-out split "
           "first) that have a verified edit; each one's hardest verified edit (the edit the "
           "region is predicted to respond to most); per counter-concept, the verified "
           "negatives with the highest predicted response. Within each condition, images "
           f"were then swapped for others among its {d['config']['pool_factor']:g}× hardest "
           "candidates to balance low-level statistics across conditions "
           "(luminance: mean Rec. 709 relative luminance; contrast: RMS, SD of luminance; "
           "colourfulness: Hasler & Süsstrunk; saturation: mean HSV saturation).", "",
           f"Largest standardised difference between two condition means: "
           f"**{lo['max_smd']:.2f}** after balancing (top-ranked selection: "
           f"{lo['max_smd_naive']:.2f}).", ""]
    rows = [[st, f"{lo['naive_table'][st]['max_smd']:.2f}", f"{lo['table'][st]['max_smd']:.2f}",
             _f(lo["table"][st]["anova_p"], 3)] for st in STATISTICS]
    out += _table(["statistic", "max SMD, top-ranked", "max SMD, balanced",
                   "one-way ANOVA p"], rows)
    conds = list(lo["table"][STATISTICS[0]]["per_condition"])
    rows = [[f"`{c}`"] + [f"{lo['table'][st]['per_condition'][c]['mean']:.3f}"
                          for st in STATISTICS] for c in conds]
    out += ["Condition means of the selected images:", ""]
    out += _table(["condition", *STATISTICS], rows)
    return out


def _timing(d, s) -> list[str]:
    t = d["timing"]
    eff = d["efficiency"]["contrasts"]
    out = ["## 4. Timing and runs", "",
           f"- Trial: image {t['on_s']:g} s, then fixation {t['off_s']:g} s "
           f"({t['trial_s']:g} s per trial, as in NSD). "
           f"{t['n_null_trials']} blank (null) trials ({t['null_fraction']:.0%} of slots: "
           "fixation only, `trial_type` `blank`) are mixed in as the baseline.",
           f"- Each run: {t['lead_in_s']:g} s fixation, the trials, {t['lead_out_s']:g} s "
           f"fixation (for the haemodynamic tail); at most {t['max_run_s']:g} s.",
           f"- Acquisition: TR {t['tr_s']:g} s (the efficiency below assumes it).",
           f"- **{s['n_runs']} runs**, {s['total_scan_minutes']:.1f} min of functional "
           "scanning in total (plus anatomy, field maps and breaks).",
           "- Order: random within each run, except that no image follows itself and an "
           "edit is never next to its own positive (that would turn the edit trial into a "
           "repetition-suppressed echo of the positive). Use the given order; it is the most "
           f"efficient of {d['config']['n_order_candidates']} valid random orders.",
           (f"- Efficiency relative to an unconstrained random order: "
            f"{s['efficiency_vs_random']:.2f}× on average over contrasts "
            f"({min(e['ratio'] for e in eff):.2f}–{max(e['ratio'] for e in eff):.2f})."
            if eff else "- No contrast to compute an efficiency for."), ""]
    if s["total_scan_minutes"] > 60:
        out += ["The runs are independent; split them over sessions of ≤ 60 min of "
                "functional scanning, keeping the run order.", ""]
    rows = [[r["run"], r["n_trials"], r["n_null"], f"{r['duration_s']:g} s", r["n_scans"],
             f"`{r['file']}`"] for r in d["runs"]]
    out += _table(["run", "trials", "blank", "duration", "volumes", "events file"], rows)
    return out


def _task(d) -> list[str]:
    return ["## 5. Task", "",
            "Fixation task: a small dot (0.2°) stays at the centre of the screen, over the "
            "images. At random times, independent of the trial sequence (on average every "
            "~10 s, never closer than 4 s), it changes colour for 0.5 s; the participant "
            "presses a button at each change and otherwise just looks at the dot.", "",
            "Why: the task keeps attention and fixation the same in every condition without "
            "asking about the images. A task about the content (\"is there a face?\") would "
            "make the concept task-relevant and add decision and attention signals to exactly "
            "the contrasts under test. A one-back task is not possible here (no image repeats "
            "back to back by design); NSD's continuous recognition task would add a memory "
            "factor. Log the colour changes and key presses and model them as nuisance "
            "events.", ""]


def _power(d, s) -> list[str]:
    p = d["power"]
    out = ["## 6. Sample size", "",
           f"Trials per condition: **{s['trials_per_condition']}**, the most any contrast "
           f"needs for power {p['power']:g} at α = {p['alpha']:g} "
           f"({'one-sided' if p['alternative'] == 'larger' else 'two-sided'}), rounded up so "
           "every image is shown equally often.", "",
           "Effect sizes come from the encoder's predicted region-mean responses to the "
           "selected images (held-out split) and the subject's measured single-trial noise "
           f"(SD {p['trial_sd']:.3f} z units): {p['method']}.", "",
           f"Note: {p['note']}.", ""]
    rows = [[c["contrast"], f"{c['predicted_delta']:+.3f}", f"{c['trial_sd']:.3f}",
             f"{c['d']:.2f}", _f(c["n_required"]), "/".join(map(str, c["n_trials"])),
             _f(c["power"]), c["status"]] for c in p["contrasts"]]
    out += _table(["contrast", "predicted Δ", "SD per trial", "d", "n needed",
                   "trials", "power", "status"], rows)
    out += [f"Smallest effect detected with power {p['power']:g} at "
            f"{s['trials_per_condition']} trials per condition: d = "
            f"{p['min_detectable_d']['paired']:.2f} (paired), "
            f"{p['min_detectable_d']['independent']:.2f} (independent).",
            "If a real participant's single-trial noise is larger than this subject's, "
            "trials per condition become: " + ", ".join(
                f"{k}× noise → {_f(v)}" for k, v in
                p["noise_sensitivity"]["trials_per_condition"].items()) + ".",
            "Power of the conjunction (all testable contrasts significant) is at least "
            f"{_f(p['conjunction_power_lower_bound'])} (Bonferroni inequality; the contrasts "
            "share the positive trials, so it is usually much higher).", ""]
    return out


def _analysis(d, s) -> list[str]:
    alt = "one-sided" if s["alternative"] == "larger" else "two-sided"
    neg = [c["name"] for c in d["conditions"] if c["kind"] in ("negative", "missing")]
    return ["## 7. Analysis plan", "",
            "1. Preprocess as usual (e.g. fMRIPrep: motion and distortion correction, "
            "registration) and sample the data on the participant's cortical surface. "
            "Define the region: for this subject, the vertices in `source.region.voxels`; "
            "for a new participant, run braincause on their data (or transfer the region "
            "through fsaverage) before the main analysis, never from these runs.",
            "2. Single-trial responses: estimate one beta per trial (e.g. GLMsingle, or "
            "least-squares-separate with the Glover HRF, onsets and durations from "
            "`events.tsv`, blank trials unmodelled, motion and fixation-task events as "
            "nuisance), z-score each vertex within run (as NSD), average over the region.",
            f"3. Tests at α = {s['alpha']:g}, {alt}: `positive − edit` as a paired t test over "
            "trial pairs (each positive trial with its edit's trial of the same repetition); "
            "`positive − X` for every negative condition (" + ", ".join(f"`{n}`" for n in neg)
            + ") as a two-sample t test over trials.",
            "4. Decision: the region represents the concept only if every contrast is "
            "significant. This intersection-union test keeps the error at α without "
            "correction, because the claim needs every null rejected. To claim that the "
            "region ignores one particular cue, correct those contrasts (Holm).",
            "5. Checks: repeat the tests with the four low-level statistics of section 3 "
            "(per image, in `design.json` → `stimuli`) as trial covariates, since balance "
            "across small conditions is imperfect; fit the condition-wise GLM (one regressor "
            "per `trial_type`, the model the efficiency numbers refer to) and map its "
            "contrasts on the whole surface, to see whether the effect is centred on the "
            "region.", ""]


def _limits(d) -> list[str]:
    return ["## 8. Limits", "",
            "- Effect sizes are predictions of an encoding model. They are shrunk (see "
            "section 6), and the images were chosen for their predicted responses, so the "
            "predictions are somewhat optimistic for the selected images.",
            "- The test treats the selected images as fixed: it says whether the region "
            "prefers these positives to these controls. Generalising to all images of the "
            "concept needs more images and a test over images rather than trials.",
            "- Power is computed for each contrast on its own, not for all of them together "
            "(see the conjunction bound in section 6).",
            "- Counter-concepts with too few verified images get fewer images per condition "
            "and more repeats of each, so repetition effects weigh more on them.", ""]


def _files(d) -> list[str]:
    f = d["files"]
    return ["## 9. Files", "",
            "- `stimuli/`: the images (BIDS `stimuli/` folder).",
            "- " + ", ".join(f"`{x}`" for x in f["events"]) + ": BIDS events per run; "
            f"`{f['events_sidecar']}` describes the columns.",
            "- `conditions.csv`: PsychoPy conditions file, one row per image; "
            + ", ".join(f"`{x}`" for x in f["psychopy_sequences"])
            + ": the trial order of each run for a sequential PsychoPy loop (empty image = "
            "blank trial).",
            "- `design.json`: everything above, machine-readable.", ""]
