"""The ``braincause`` command.

Every subcommand is a function ``cmd_<verb>(args) -> int``; :func:`main` parses,
dispatches and maps errors to exit codes: 0 success, 2 bad input (with a one-line
message saying what was wrong and how to fix it), 1 internal error.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from braincause import __version__
from braincause.boundary import (
    check_float,
    check_int,
    check_output_dir,
    check_output_file,
    check_seed,
    check_text,
    nsd_subject_number,
)
from braincause.exceptions import BrainCauseError, DataError, UserInputError

#: Upper bounds of the CLI's sizes and counts (a typo like ``--n 5000000`` is refused
#: before it starts hours of work).
MAX_RENDER_SCENES = 1024
MAX_COOCCURRENCE_SCENES = 200_000
MAX_TOP = 100
MAX_WORKERS = 64
MAX_REGION_K = 1_000_000
MAX_NULL_REPEATS = 100


def _check_subject(subject_id: str, what: str = "subject") -> str:
    """A synthetic subject id (``synth-01`` … or ``synth-s<SEED>``), checked without
    building the subject."""
    from braincause.synth.subject import subject_seed

    check_text(subject_id, what, max_len=100)
    subject_seed(subject_id)
    return subject_id


def _nsd_number(subject: str) -> int:
    return nsd_subject_number(subject, "--subject")


def _check_nsd_root(root: str) -> None:
    check_text(root, "--nsd-root", max_len=4096)
    if not Path(root).is_dir():
        raise UserInputError(f"--nsd-root {root!r} is not a folder; pass the root of a local "
                             "NSD copy (docs/nsd.md)")


def _default_out(name: str) -> Path:
    """``braincause-out/NAME`` with NAME made a plain folder name (no ``/``, no ``..``)."""
    import re

    safe = re.sub(r"[^\w.-]+", "_", name.strip()).lstrip(".") or "run"
    return Path("braincause-out") / safe[:100]


def _write_json(path: Path, obj: object) -> None:
    from braincause.utils import atomic_write_bytes

    atomic_write_bytes(path, (json.dumps(obj, indent=2, sort_keys=False) + "\n").encode())


# ---------------------------------------------------------------- concepts
def cmd_concepts(args: argparse.Namespace) -> int:
    from braincause.synth.concepts import CONCEPTS

    rows = [{"name": c.name, "kind": c.kind, "description": c.description,
             "categories": list(c.members), "synonyms": list(c.synonyms)}
            for c in CONCEPTS.values()]
    if args.json:
        print(json.dumps({"concepts": rows}, indent=2))
        return 0
    kinds = ["category", "group", "composition", "scene"]
    print(f"{len(rows)} concepts (query any name or synonym, e.g. `braincause render faces`)\n")
    for kind in kinds:
        sel = [r for r in rows if r["kind"] == kind]
        print(f"{kind} concepts ({len(sel)}):")
        for r in sel:
            covers = f" [covers: {', '.join(r['categories'])}]" if kind != "category" and \
                r["categories"] else ""
            syn = ", ".join(s for s in r["synonyms"] if s != r["name"].replace("_", " "))[:70]
            print(f"  {r['name']:<20} {r['description']}{covers}")
            if syn:
                print(f"  {'':<20} also: {syn}")
        print()
    return 0


# ---------------------------------------------------------------- render
def cmd_render(args: argparse.Namespace) -> int:
    import numpy as np

    from braincause.synth.captions import captions
    from braincause.synth.grammar import parse
    from braincause.synth.render import render
    from braincause.synth.sampler import sample_scenes
    from braincause.synth.sheet import contact_sheet

    check_text(args.prompt, "the prompt")
    check_int(args.n, "--n", 1, MAX_RENDER_SCENES)
    if args.size < 32 or args.size > 1024:
        raise UserInputError(f"--size must be between 32 and 1024 pixels, got {args.size}")
    check_seed(args.seed, "--seed")
    out = check_output_file(args.out, "--out", suffix=".png")
    check_output_file(out.with_suffix(".json"), "--out's sidecar JSON")
    spec = parse(args.prompt)
    if spec.unknown:
        print(f"warning: could not place these words of the prompt: {', '.join(spec.unknown)}"
              " (they are listed in the sidecar JSON)", file=sys.stderr)
    scenes = sample_scenes(args.n, np.random.SeedSequence(args.seed), spec)
    images, records = [], []
    for s in scenes:
        images.append(render(s, args.size).image)
        caps = captions(s)
        records.append({"scene": s.to_dict(), "captions": caps, "hash": s.content_hash()})
    sheet = contact_sheet(images, [r["captions"][0] for r in records] if args.labels else None)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    sheet.save(tmp, format="PNG", optimize=False)
    tmp.replace(out)
    side = out.with_suffix(".json")
    _write_json(side, {
        "prompt": args.prompt, "seed": args.seed, "n": args.n, "size": args.size,
        "spec": {"context": spec.context,
                 "require": [r.__dict__ for r in spec.require],
                 "require_any": [list(g) for g in spec.require_any],
                 "forbid": sorted(spec.forbid), "compositions": sorted(spec.compositions)},
        "unplaced_words": list(spec.unknown), "braincause_version": __version__,
        "scenes": records,
    })
    print(f"wrote {args.n} scenes for {args.prompt!r} to {out} (scene records and captions: "
          f"{side})")
    return 0


# ---------------------------------------------------------------- cooccurrence
def cmd_cooccurrence(args: argparse.Namespace) -> int:
    import csv
    import io

    from braincause.synth.stats import concept_correlations, declared_table

    check_int(args.n, "--n (scenes)", 100, MAX_COOCCURRENCE_SCENES)
    check_seed(args.seed, "--seed")
    check_int(args.top, "--top", 1, MAX_TOP)
    if args.out is not None:
        check_output_dir(args.out, "--out")
    corr = concept_correlations(n=args.n, seed=args.seed, top=args.top)
    declared = declared_table()
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=list(declared[0]))
        w.writeheader()
        w.writerows(declared)
        (out / "declared_priors.csv").write_text(buf.getvalue())
        _write_json(out / "concept_correlations.json",
                    {"n_scenes": args.n, "seed": args.seed, "concepts": corr})
    if args.json:
        print(json.dumps({"n_scenes": args.n, "seed": args.seed, "concepts": corr,
                          "declared": declared}, indent=2))
        return 0
    print(f"co-occurrence over {args.n} sampled scenes (seed {args.seed}); phi correlation\n")
    for name, e in corr.items():
        objs = ", ".join(f"{r['name']} {r['phi']:.2f}" for r in e["objects"][:4]) or "-"
        cues = ", ".join(f"{r['name']} {r['phi']:.2f}" for r in e["cues"][:3]) or "-"
        print(f"{name:<20} prevalence {e['prevalence']:.3f}  objects: {objs}  cues: {cues}")
    if args.out:
        print(f"\nwrote {Path(args.out) / 'declared_priors.csv'} and "
              f"{Path(args.out) / 'concept_correlations.json'}")
    return 0


# ---------------------------------------------------------------- subjects
def _note(args: argparse.Namespace, msg: str) -> None:
    if not getattr(args, "quiet", False):
        print(msg, file=sys.stderr, flush=True)


def cmd_subjects(args: argparse.Namespace) -> int:
    from braincause.datasets import SUBJECT_IDS, load_subject
    from braincause.synth.ground_truth import DEFINITION, precompute, summarize
    from braincause.utils import cache_dir

    ids = [_check_subject(s) for s in args.subject] or list(SUBJECT_IDS)
    check_int(args.workers, "--workers", 1, MAX_WORKERS)
    _note(args, f"preparing {len(ids)} synthetic subjects (the first run builds them and the "
                f"ground truth of every concept, ~2-4 min on 2 cores; cached in {cache_dir()})")
    prog = _progress(args.quiet)
    try:
        precompute(workers=args.workers, progress=prog)
        rows = []
        for i, sid in enumerate(ids):
            rows.append(summarize(load_subject(sid), workers=args.workers))
            prog(f"subjects {i + 1}/{len(ids)}: {sid}")
    finally:
        prog.done()
    if args.json:
        print(json.dumps({"subjects": rows, "ground_truth_definition": DEFINITION}, indent=2))
        return 0
    for r in rows:
        print(f"{r['subject']}: {r['n_voxels']} voxels (fsaverage5 visual cortex), "
              f"{r['n_images']} measured images ({r['n_train']} train / {r['n_test']} shared "
              f"test), median noise ceiling {r['median_noise_ceiling']:.2f}")
        planted = [a for a in r["areas"] if a["kind"] == "planted"]
        decoys = [a for a in r["areas"] if a["kind"] == "decoy"]
        if planted:
            print("  planted areas: " + ", ".join(f"{a['name']} ({a['n_voxels']})"
                                                  for a in planted))
            print("  decoys (cue-only): " + ", ".join(f"{a['name']} ({a['n_voxels']})"
                                                      for a in decoys))
        else:
            print("  no concept areas and no decoys (null subject, for calibration)")
        gt = r["ground_truth_voxels"]
        full = sorted((k for k, v in gt.items() if v), key=lambda k: -gt[k])
        print(f"  ground truth non-empty for {len(full)} concepts: "
              + ", ".join(f"{k} ({gt[k]})" for k in full))
        print(f"  ground truth empty for {len(r['empty_ground_truth'])} concepts: "
              + ", ".join(r["empty_ground_truth"]))
        print()
    print("ground truth: " + DEFINITION)
    return 0


def cmd_show_subject(args: argparse.Namespace) -> int:
    from braincause.datasets import load_subject
    from braincause.report.surface import plot_areas
    from braincause.synth.subject import subject_seed

    _check_subject(args.subject)
    if subject_seed(args.subject)[1]:
        raise UserInputError(f"{args.subject} has no planted areas or decoys to show "
                             "(it is the null subject)")
    out = check_output_file(args.out, "--out", suffix=".png")
    _note(args, f"preparing {args.subject} (built and cached on first use) …")
    subj = load_subject(args.subject)
    if subj.is_null:
        raise UserInputError(f"{args.subject} has no planted areas or decoys to show "
                             "(it is the null subject)")
    plot_areas(subj.cortex, subj.roi_labels, kinds=subj.area_kinds(),
               title=f"{args.subject}: planted concept areas and cue-only decoys", out=out)
    print(f"wrote {out}")
    return 0


# ---------------------------------------------------------------- fit-encoder
def _load_any_subject(args: argparse.Namespace, progress=None):
    if args.nsd_root:
        from braincause.datasets.nsd import NSDSubject

        return NSDSubject(args.nsd_root, _nsd_number(args.subject))
    from braincause.datasets import load_subject

    return load_subject(args.subject, progress=progress)


def cmd_fit_encoder(args: argparse.Namespace) -> int:
    from braincause.encoding.fit import fit_encoder

    check_float(args.threshold, "--threshold", 0, 1, hi_open=True)
    if args.nsd_root:
        _check_nsd_root(args.nsd_root)
        _nsd_number(args.subject)
    else:
        _check_subject(args.subject, "--subject")
    if args.map is not None:
        check_output_file(args.map, "--map", suffix=".png")
    _note(args, f"preparing {args.subject} …")
    prog = _progress(args.quiet)
    try:
        subj = _load_any_subject(args, prog)
    finally:
        prog.done()
    _note(args, "fitting the encoder (first run: backbone features of every measured image, "
                "then voxelwise ridge; cached afterwards)")
    prog = _progress(args.quiet)
    try:
        fit = fit_encoder(subj, threshold=args.threshold, use_cache=not args.no_cache,
                          progress=prog)
    finally:
        prog.done()
    sm = fit.summary
    if args.map:
        from braincause.report.surface import plot_surface_map

        if getattr(subj, "cortex", None) is None:
            raise UserInputError("--map needs a cortical mesh, which this dataset does not have")
        outline = {k: v for k, v in subj.roi_labels.items()
                   if subj.area_kinds().get(k) == "planted"} if hasattr(subj, "area_kinds") \
            else None
        plot_surface_map(subj.cortex, fit.r, title=f"{subj.subject_id}: held-out encoder r",
                         cmap="inferno", symmetric=False, outline=outline, out=args.map)
    if args.json:
        print(json.dumps({"subject": subj.subject_id, "backbone": fit.backbone,
                          "encoder": str(fit.path), **sm}, indent=2))
        return 0
    print(f"{subj.subject_id}: encoder {fit.backbone}")
    print(f"  held-out images: {len(subj.test_indices)}; voxels: {sm['n_voxels']}")
    print(f"  median r = {sm['median_r']:.3f}; median r / sqrt(noise ceiling) = "
          f"{sm['median_r_over_sqrt_noise_ceiling']:.3f} (median noise ceiling "
          f"{sm['median_noise_ceiling']:.3f})")
    if "median_r_in_planted_areas" in sm:
        print(f"  median r inside planted areas = {sm['median_r_in_planted_areas']:.3f}")
    print(f"  voxel filter r >= {sm['filter_threshold_r']:g}: keeps "
          f"{sm['voxels_kept_by_filter']} of {sm['n_voxels']} voxels")
    for name, a in sm["areas"].items():
        print(f"    {name:<16} {a['kind']:<8} {a['n_voxels']:>5} voxels  median r "
              f"{a['median_r']:.3f}")
    print(f"  fitted encoder: {fit.path}")
    if args.map:
        print(f"  map of r: {args.map}")
    return 0


# ---------------------------------------------------------------- localize
def _progress(quiet: bool):
    """The progress callback of a command: tqdm bars with counts and ETA on a terminal,
    plain timestamped lines otherwise, nothing with ``--quiet``
    (:class:`braincause.utils.progress.ProgressReporter`)."""
    from braincause.utils.progress import ProgressReporter

    return ProgressReporter(quiet)


def _localize_subject(args: argparse.Namespace) -> str:
    if args.subject is not None:
        return args.subject
    if args.nsd_root:
        raise UserInputError("with --nsd-root, give the NSD subject: --subject 1 (1-8)")
    return "synth-01"


def cmd_localize(args: argparse.Namespace) -> int:
    from braincause.config import LocalizeConfig
    from braincause.pipeline import localize

    check_text(args.concept, "the concept")
    subject = _localize_subject(args)
    if args.nsd_root:
        _check_nsd_root(args.nsd_root)
        _nsd_number(subject)
    else:
        _check_subject(subject, "--subject")
    check_seed(args.seed, "--seed")
    if args.verify_stimuli and not args.stimuli:
        raise UserInputError("--verify-stimuli needs --stimuli DIR (generated stimuli are "
                             "always verified)")
    if args.stimuli is not None:
        check_text(args.stimuli, "--stimuli", max_len=4096)
    if args.k is not None:
        check_int(args.k, "--k", 1, MAX_REGION_K)
    if args.alpha is not None:
        check_float(args.alpha, "--alpha", 0, 1, lo_open=True, hi_open=True)
    out = check_output_dir(args.out if args.out is not None else _default_out(args.concept),
                           "--out")
    cfg = LocalizeConfig.from_toml(args.config) if args.config else LocalizeConfig()
    if args.k is not None or args.alpha is not None or args.verifier:
        import dataclasses

        if args.k is not None:
            cfg = dataclasses.replace(cfg, region=dataclasses.replace(cfg.region, k=args.k))
        if args.alpha is not None:
            cfg = dataclasses.replace(cfg, stats=dataclasses.replace(cfg.stats,
                                                                     alpha=args.alpha))
        if args.verifier:  # the flag wins over [backends.verifier] kind
            b = cfg.backends
            cfg = dataclasses.replace(
                cfg, stimuli=dataclasses.replace(cfg.stimuli, verifier=args.verifier),
                backends=dataclasses.replace(b, verifier=dataclasses.replace(b.verifier,
                                                                             kind=None)))
        cfg.validate()
    prog = _progress(args.quiet)
    try:
        res = localize(args.concept, subject=subject, seed=args.seed,
                       config=cfg, out=out, nsd_root=args.nsd_root,
                       use_cache=not args.no_cache, progress=prog, report=not args.no_report,
                       followup={"auto": None, "always": True, "never": False}[args.followup],
                       stimuli=args.stimuli, verify_stimuli=args.verify_stimuli)
    finally:
        prog.done()
    if args.json:
        print(json.dumps(res.to_dict(), indent=2))
        return 0
    print(res.summary())
    outs = res.to_dict().get("outputs") or {}
    wrote = [f"{out / 'result.json'}", f"{out / 'stimuli'}/"]
    if outs.get("surface"):
        wrote.append(f"{out / 'surface'}/ (GIFTI), {out / 'regions.tsv'}")
    if outs.get("followup"):
        wrote.append(f"{out / 'followup'}/ (protocol.md)")
    if outs.get("report"):
        wrote.append(f"{out / 'report.html'}")
    print("\nwrote " + ", ".join(wrote))
    return 0


# ---------------------------------------------------------------- predict
def cmd_predict(args: argparse.Namespace) -> int:
    import numpy as np

    from braincause.config import LocalizeConfig
    from braincause.prediction import predict

    for item in args.images:
        check_text(item, "IMAGES", max_len=4096)
    subject = args.subject
    if args.nsd_root:
        _check_nsd_root(args.nsd_root)
        _nsd_number(subject)
    else:
        _check_subject(subject, "--subject")
    if args.threshold is not None:
        check_float(args.threshold, "--threshold", 0, 1, hi_open=True)
    out = Path(check_output_file(args.out, "--out"))
    if out.suffix.lower() not in (".csv", ".tsv"):
        raise UserInputError(f"--out {args.out!r} must end in .csv or .tsv (the region-mean "
                             "table; the .npz, .json and GIFTI files are written beside it)")
    stem = out.with_suffix("")
    for extra in (stem.with_suffix(".npz"), stem.with_suffix(".json")):
        check_output_file(extra, "--out's sidecar")
    cfg = LocalizeConfig.from_toml(args.config) if args.config else None
    prog = _progress(args.quiet)
    try:
        pred = predict(args.images, subject=subject, region=args.region, roi=args.roi,
                       nsd_root=args.nsd_root, config=cfg, threshold=args.threshold,
                       use_cache=not args.no_cache, progress=prog)
    finally:
        prog.done()
    out.parent.mkdir(parents=True, exist_ok=True)
    files = pred.write(out, surface=not args.no_surface)
    if args.json:
        print(json.dumps({**pred.info, "files": [str(f) for f in files]}, indent=2))
        return 0
    f = pred.info["voxel_filter"]
    print(f"{len(pred.names)} images in {pred.subject}: predicted responses of "
          f"{pred.responses.shape[1]} voxels; region means over the {f['n_voxels_kept']} "
          f"voxels with held-out encoder r >= {f['threshold']:g}")
    order = np.argsort(-np.nan_to_num(pred.region_means, nan=-np.inf), axis=0)
    for j, name in enumerate(pred.regions):
        n_kept = pred.info["regions"][name]["n_voxels_kept"]
        best = pred.names[order[0, j]] if n_kept else "-"
        print(f"  {name:<22} {n_kept:>5} voxels  top image: {Path(best).name}")
    print("wrote " + ", ".join(str(p) for p in files))
    return 0


# ---------------------------------------------------------------- explain
def cmd_explain(args: argparse.Namespace) -> int:
    from braincause.explanation import explain

    if (args.run_dir is None) == (args.roi is None):
        raise UserInputError("explain needs a region: a localize RUN_DIR, or --roi FILE with "
                             "--subject ID (not both)")
    if args.run_dir is not None:
        check_text(args.run_dir, "RUN_DIR", max_len=4096)
    if args.subject is not None:
        _check_subject(args.subject, "--subject")
    if args.roi is not None and args.subject is None:
        raise UserInputError("--roi needs --subject ID (the subject whose voxels it indexes)")
    out = check_output_dir(args.out, "--out")
    prog = _progress(args.quiet)
    try:
        ex = explain(args.run_dir, roi=args.roi, subject=args.subject, out=out,
                     n_facets=args.facets, seed=args.seed,
                     synthesis=not args.no_synthesis, progress=prog)
    finally:
        prog.done()
    print(f"{ex.subject}: region of {int(ex.region.sum())} voxels explained on "
          f"{ex.info['n_images']} measured images")
    for r in ex.dissection[:5]:
        print(f"  {r['rank']:>2}. {r['name']:<22} ({r['kind']:<9}) effect {r['effect']:+.3f}  "
              f"95% CI [{r['ci'][0]:+.3f}, {r['ci'][1]:+.3f}]  n={r['n_images']}")
    for f in ex.facets:
        kw = ", ".join(k["word"] for k in f["keywords"][:4])
        syn = f.get("synthesized")
        extra = (f"; synthesized image: predicted {syn['predicted_response']:+.3f} "
                 f"({syn['percentile']:.1f}th percentile of the measured images)"
                 if syn else "")
        print(f"  facet {f['facet']}: {f['n_images']} images, mean response "
              f"{f['mean_response']:+.3f}; keywords: {kw}{extra}")
    print(f"wrote {Path(out) / 'explain.json'}")
    return 0


# ---------------------------------------------------------------- export-stimuli
def cmd_export_stimuli(args: argparse.Namespace) -> int:
    from braincause.stimuli.folder import export_stimulus_folder

    check_text(args.run_dir, "RUN_DIR", max_len=4096)
    out = check_output_dir(args.out, "--out")
    got = export_stimulus_folder(args.run_dir, out)
    if args.json:
        print(json.dumps(got, indent=2))
        return 0
    n = got["images"]
    print(f"wrote the kept stimuli of {args.run_dir} ({got['concept']}) to {out}: "
          f"{n['positive']} positives, {n['negative']} negatives, {n['edit']} edits, "
          f"{n['control']} controls, manifest.csv, counter_concepts.csv\n"
          f"use it with: braincause localize {got['concept']} --stimuli {out}")
    return 0


# ---------------------------------------------------------------- design
def cmd_design(args: argparse.Namespace) -> int:
    from braincause.followup import FollowupConfig, design_followup

    check_text(args.run_dir, "RUN_DIR", max_len=4096)
    if args.seed is not None:
        check_seed(args.seed, "--seed")
    check_float(args.power, "--power", 0, 1, lo_open=True, hi_open=True)
    if args.alpha is not None:
        check_float(args.alpha, "--alpha", 0, 0.5, lo_open=True, hi_open=True)
    run_dir = Path(args.run_dir)
    if run_dir.is_dir():  # else the reader says the folder is missing
        check_output_dir(run_dir, "RUN_DIR")
        check_output_dir(run_dir / "followup", "RUN_DIR/followup")
    cfg = FollowupConfig(power=args.power, alpha=args.alpha)
    prog = _progress(args.quiet)
    try:
        design = design_followup(args.run_dir, config=cfg, seed=args.seed, progress=prog)
    finally:
        prog.done()
    if args.json:
        print(json.dumps(design.to_dict(), indent=2, ensure_ascii=False))
        return 0
    print(design.format_summary())
    print(f"\nwrote {design.path}/ (protocol.md, design.json, events.tsv per run, "
          "conditions.csv, stimuli/)")
    return 0


# ---------------------------------------------------------------- benchmark
def _check_engine(args: argparse.Namespace) -> None:
    """``--address`` only with ``--engine ray``, and Ray importable, before any work."""
    if args.address is not None:
        check_text(args.address, "--address", max_len=300)
        if args.engine != "ray":
            raise UserInputError("--address is for --engine ray; the local engine runs on "
                                 "this machine")
    if args.engine == "ray":
        import importlib.util

        if importlib.util.find_spec("ray") is None:
            raise UserInputError("--engine ray needs Ray: pip install 'braincause[ray]' "
                                 "(or pip install ray)")


def cmd_benchmark(args: argparse.Namespace) -> int:
    from braincause.bench import groundtruth as gt

    check_int(args.workers, "--workers", 1, MAX_WORKERS)
    check_seed(args.seed, "--seed")
    _check_engine(args)
    if args.null_repeats is not None:
        check_int(args.null_repeats, "--null-repeats", 0, MAX_NULL_REPEATS)
    for s in args.subjects or ():
        _check_subject(s, "--subjects")
    for c in args.concepts or ():
        check_text(c, "--concepts", max_len=100)
    if args.work is not None:
        check_output_dir(args.work, "--work")
    if args.config:
        from braincause.config import ConfigError, LocalizeConfig, read_toml

        config = read_toml(args.config, "See docs/benchmark.md for the format.")
        try:
            LocalizeConfig.from_dict(config)  # a bad field fails here, before any work
        except ConfigError as e:
            raise ConfigError(f"{args.config}: {e}") from None
    else:
        config = gt.QUICK if args.quick else gt.BENCH
    concepts = args.concepts or (gt.QUICK_CONCEPTS if args.quick else gt.FULL_CONCEPTS)
    subjects = args.subjects or (("synth-01",) if args.quick else gt.SUBJECTS)
    null_repeats = args.null_repeats if args.null_repeats is not None else \
        (1 if args.quick else 2)
    out = check_output_dir(args.out if args.out is not None else Path("braincause-out") / (
        "benchmark-quick" if args.quick else "benchmark"), "--out")
    say = _progress(args.quiet)
    try:
        res = gt.run_benchmark(concepts=concepts, subjects=subjects,
                               null_subject=None if args.no_null else gt.NULL_SUBJECT,
                               null_repeats=null_repeats, config=config, seed=args.seed,
                               workers=args.workers, work=args.work,
                               resume=not args.no_resume, out=out, quick=args.quick,
                               progress=say, engine=args.engine, address=args.address)
    finally:
        say.done()
    if args.json:
        print((out / "benchmark.json").read_text())
        return 0
    from braincause.bench.groundtruth_report import target_status

    print(f"{'method':<20} {'FPR':>7} {'TPR':>7} {'prec@100':>9} {'null FWER':>10}")
    for m, v in res["methods"].items():
        cells = [v["concept_fpr"], v["concept_tpr"], v["voxel_precision_top100"],
                 v["null_fwer"]]
        print(f"{m:<20} " + " ".join(f"{'—' if x is None else f'{x:.3f}':>{w}}"
                                     for x, w in zip(cells, (7, 7, 9, 10), strict=True)))
    missed = [k for k, t in target_status(res).items() if t["met"] is False]
    print(f"\nbraincause targets missed: {', '.join(missed) if missed else 'none'}")
    print(f"wrote {out / 'benchmark.json'}, {out / 'benchmark.md'}, {out / 'benchmark.png'} "
          f"({res['run']['wall_s'] / 60:.1f} min)")
    return 0


# ---------------------------------------------------------------- sweep
def _sweep_config(args: argparse.Namespace):
    from braincause.config import LocalizeConfig

    return LocalizeConfig.from_toml(args.config) if args.config else LocalizeConfig()


class _SweepBar:
    """Progress of a sweep: a tqdm bar with ETA on a TTY, one line per task otherwise."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.bar = None

    def __call__(self, row: dict, n: int, total: int) -> None:
        if self.quiet:
            return
        what = row.get("verdict") or row["status"]
        if row["status"] == "failed":
            what += f" ({row.get('error')})"
        if self.tty:
            if self.bar is None:
                from tqdm import tqdm

                self.bar = tqdm(total=total, unit="run", file=sys.stderr, dynamic_ncols=True)
            self.bar.set_postfix_str(f"{row['subject']}/{row['query']}: {what}"[:60])
            self.bar.update(n - self.bar.n)
        else:
            print(f"[{n}/{total}] {row['subject']} {row['query']}: {what}", file=sys.stderr,
                  flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_sweep(args: argparse.Namespace) -> int:
    from braincause.sweeps import read_concept_file, sweep
    from braincause.sweeps.plan import plan_sweep

    concepts = list(args.concepts or [])
    if args.concept_file:
        check_text(args.concept_file, "--concept-file", max_len=4096)
        concepts += read_concept_file(args.concept_file)
    if not concepts:
        raise UserInputError("give concepts (braincause sweep faces food --subjects ...) or "
                             "--concept-file FILE (one query per line)")
    subjects = args.subjects or ["synth-01"]
    if args.nsd_root:
        _check_nsd_root(args.nsd_root)
        for s in subjects:
            nsd_subject_number(s, "--subjects")
    else:
        for s in subjects:
            _check_subject(s, "--subjects")
    check_seed(args.seed, "--seed")
    _check_engine(args)
    if args.workers is not None:
        check_int(args.workers, "--workers", 1, MAX_WORKERS)
    if args.q is not None:
        check_float(args.q, "--q", 0, 1, lo_open=True, hi_open=True)
    check_int(args.n_spins, "--n-spins", 0, 100_000)
    if args.cpus_per_task is not None:
        check_float(args.cpus_per_task, "--cpus-per-task", 0, 1024, lo_open=True)
    if args.gpus_per_task is not None:
        check_float(args.gpus_per_task, "--gpus-per-task", 0, 64)
    out = check_output_dir(args.out, "--out")
    cfg = _sweep_config(args)
    plan_sweep(concepts, subjects, seed=args.seed)  # collisions and sizes, before any work
    from braincause.sweeps.run import default_resources

    res = default_resources(cfg, cpus=args.cpus_per_task, gpus=args.gpus_per_task)
    bar = _SweepBar(args.quiet or args.json)
    say = None if args.quiet else (lambda m: print(m, file=sys.stderr, flush=True))
    try:
        result = sweep(concepts, subjects, out=out, seed=args.seed, config=cfg,
                       engine=args.engine, workers=args.workers, address=args.address,
                       resources=res, retry_failed=args.retry_failed, fdr=args.fdr,
                       q=args.q, n_spins=args.n_spins, nsd_root=args.nsd_root,
                       report=not args.no_report, progress=say, on_task=bar)
    finally:
        bar.close()
    doc = result.to_dict()
    if args.json:
        print(json.dumps(doc, indent=1, ensure_ascii=False))
    else:
        print(f"{'subject':<16} {'runs':>5} {'failed':>6} {'discoveries':>11} "
              f"{'at FDR ' + format(doc['fdr']['q'], 'g'):>11}")
        for s, v in doc["summary"].items():
            print(f"{s:<16} {v['done']:>5} {v['failed']:>6} {v['discoveries']:>11} "
                  f"{v['discoveries_at_fdr']:>11}")
        for r in doc["tasks"]:
            if r.get("discovery_at_fdr"):
                print(f"  {r['subject']} {r['query']}: discovery at FDR (q {r['q']:.3g})")
        cons = (doc.get("consistency") or {}).get("concepts") or {}
        for q, c in cons.items():
            print(f"  {q}: mean Dice {c['mean_dice']}, mean r {c['mean_correlation']} over "
                  f"{len(c['subjects'])} subjects")
        print(f"wrote {out / 'sweep.json'} and {out / 'index.html'}")
    if result.failed:
        print(f"braincause: {len(result.failed)} task(s) failed (messages in sweep.json); "
              "fix them and rerun with --retry-failed", file=sys.stderr)
        return 3
    return 0


# ---------------------------------------------------------------- parser
def build_parser() -> argparse.ArgumentParser:
    from braincause.config import EMBEDDED_VERIFIERS, RegionConfig, StatsConfig, config_help

    p = argparse.ArgumentParser(
        prog="braincause",
        description="Find the voxels of visual cortex that represent a concept itself, not "
                    "the cues that co-occur with it. Runs offline on an embedded synthetic world. "
                    "Start with `braincause localize faces` (result.json, report.html and the "
                    "follow-up experiment design); `braincause benchmark` scores it against "
                    "ground truth. Real models and NSD: `localize --config real.toml "
                    "--nsd-root DIR` (docs/backends.md).",
    )
    p.add_argument("--version", action="version", version=f"braincause {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    c = sub.add_parser("concepts", help="list the concept vocabulary with synonyms",
                       description="List every queryable concept: its kind (category, group, "
                                   "composition, scene), the object categories it covers, and "
                                   "its synonyms.")
    c.add_argument("--json", action="store_true", help="print one JSON document")
    c.set_defaults(func=cmd_concepts)

    r = sub.add_parser(
        "render", help="render a contact sheet of scenes for a prompt or concept",
        description="Sample scenes that satisfy PROMPT from the synthetic world's priors, render "
                    "them, and save a contact sheet PNG plus a sidecar JSON (same name, .json) "
                    "with each scene record and its captions. Words of the prompt that cannot "
                    "be placed are reported.")
    r.add_argument("prompt", help='a concept ("faces") or a short scene description '
                                  '("a plate of pizza on a kitchen table")')
    r.add_argument("--n", type=int, default=16, help="number of scenes (default 16)")
    r.add_argument("--size", type=int, default=224, help="image side in pixels (default 224)")
    r.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    r.add_argument("--out", required=True, help="output .png path")
    r.add_argument("--no-labels", dest="labels", action="store_false",
                   help="do not print captions under the tiles")
    r.set_defaults(func=cmd_render)

    o = sub.add_parser(
        "cooccurrence", help="export the world's co-occurrence statistics",
        description="Measure, over N sampled scene records, how each concept co-occurs with "
                    "objects, visual cues and contexts (phi coefficient, lift), and export the "
                    "declared priors (base probabilities and couplings per context).")
    o.add_argument("--n", type=int, default=5000, help="scenes to sample (default 5000)")
    o.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    o.add_argument("--top", type=int, default=6, help="correlates listed per concept")
    o.add_argument("--out", help="directory for declared_priors.csv and "
                                 "concept_correlations.json")
    o.add_argument("--json", action="store_true", help="print one JSON document")
    o.set_defaults(func=cmd_cooccurrence)

    sj = sub.add_parser(
        "subjects", help="list the synthetic subjects",
        description="List the synthetic subjects with their voxel counts, median noise "
                    "ceilings, planted concept areas and cue-only decoys (with voxel counts), "
                    "and which concepts have empty ground truth. The first run builds every "
                    "subject and the ground truth of every concept (a few minutes) and caches "
                    "them ($BRAINCAUSE_CACHE or ~/.cache/braincause).")
    sj.add_argument("subject", nargs="*", help="subject ids (default: synth-01..04, synth-null; "
                                               "any synth-s<SEED> draws a new subject)")
    sj.add_argument("--json", action="store_true", help="print one JSON document")
    sj.add_argument("--workers", type=int, default=2, help="processes for the first build")
    sj.add_argument("--quiet", action="store_true", help="no progress messages")
    sj.set_defaults(func=cmd_subjects)

    ss = sub.add_parser(
        "show-subject", help="draw a subject's planted areas and decoys on the cortex",
        description="Draw the planted concept areas and the cue-only decoys of a synthetic "
                    "subject on the inflated (lateral, medial, ventral) and flat fsaverage5 "
                    "surfaces, with a legend of voxel counts.")
    ss.add_argument("subject", help="subject id, e.g. synth-01")
    ss.add_argument("--out", required=True, help="output .png path")
    ss.add_argument("--quiet", action="store_true", help="no progress messages")
    ss.set_defaults(func=cmd_show_subject)

    fe = sub.add_parser(
        "fit-encoder", help="fit a subject's image-to-fMRI encoder and report its accuracy",
        description="Fit the voxelwise ridge encoder (MobileNetV2 features, per-voxel alpha by "
                    "5-fold cross-validation on the train split) and report held-out accuracy "
                    "on the test split: median Pearson r, r / sqrt(noise ceiling), r per area, "
                    "and the voxels kept by the paper's filter (r >= 0.2). The fitted encoder is "
                    "cached and reused by later runs.")
    fe.add_argument("--subject", required=True,
                    help="synthetic subject id (synth-01…) or, with --nsd-root, an NSD subject "
                         "number (1-8)")
    fe.add_argument("--nsd-root", help="root folder of a local NSD copy")
    fe.add_argument("--threshold", type=float, default=0.2,
                    help="voxel filter: minimum held-out r (default 0.2, the paper's)")
    fe.add_argument("--map", help="also draw the map of held-out r on the cortex (.png)")
    fe.add_argument("--no-cache", action="store_true", help="refit even if a fit is cached")
    fe.add_argument("--json", action="store_true", help="print one JSON document")
    fe.add_argument("--quiet", action="store_true", help="no progress messages")
    fe.set_defaults(func=cmd_fit_encoder)

    lo = sub.add_parser(
        "localize", help="find the voxels that represent a concept, test them, give a verdict",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run the BrainCause pipeline for CONCEPT in one subject: plan prompts, "
                    "counter-concepts and edits; generate, edit and verify stimuli; predict "
                    "responses with the subject's encoder; score every voxel (S_pos, S_neg, "
                    "S_edit, S_causal and the paper's ranking signals); choose a region on the "
                    "TRAIN split; test it on the EVAL split and held-out measured images "
                    "(bootstrap CIs, baseline-concept p-values, voxelwise max-T and FDR); "
                    "give a verdict (discovery / rejected / needs follow-up / inconclusive). "
                    "Writes DIR/result.json, DIR/maps.npz (per-voxel maps; the same maps as "
                    "GIFTI on fsaverage in DIR/surface/, lh./rh.*.func.gii and *.label.gii, "
                    "and the regions' voxels in DIR/regions.tsv), DIR/stimuli/, DIR/report.html "
                    "(a self-contained page) and, when the verdict calls for one (discovery, "
                    "needs follow-up), the follow-up experiment in DIR/followup/. Everything is "
                    "cached: the first "
                    "run builds the subject, its encoder, the verifier and the baseline "
                    "concepts' stimuli (several minutes); later runs take well under a minute.",
        epilog="config file (TOML; every field optional, defaults shown):\n"
               f"{config_help()}\n"
               "  see docs/backends.md, \"Selecting backends in a config file\", for what each\n"
               "  backend's options do\n"
               "\nexit codes: 0 done, 2 bad input (unknown concept or subject, bad config, "
               "no verified positives, a real backend's model or server missing), 1 internal "
               "error.")
    lo.add_argument("concept", help='a concept name, synonym or free text ("faces", "food", '
                                    '"something to eat")')
    lo.add_argument("--subject",
                    help="synthetic subject id: synth-01..04, synth-null or synth-s<SEED> "
                         "(default synth-01); with --nsd-root an NSD subject number (1-8)")
    lo.add_argument("--nsd-root", metavar="DIR",
                    help="run on NSD from this local copy (docs/nsd.md), with the real "
                         "backends of the config's [backends] (docs/backends.md)")
    lo.add_argument("--out", help="output folder (default braincause-out/CONCEPT)")
    lo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    lo.add_argument("--config", help="TOML config file (see below)")
    lo.add_argument("--k", type=int,
                    help=f"region size (overrides the config; default {RegionConfig.k})")
    lo.add_argument("--alpha", type=float,
                    help=f"significance level (default {StatsConfig.alpha})")
    lo.add_argument("--verifier", choices=EMBEDDED_VERIFIERS,
                    help="stimulus verifier (default probe: linear probes on backbone features)")
    lo.add_argument("--no-cache", action="store_true",
                    help="recompute everything (slow), ignoring and not writing the cache")
    lo.add_argument("--no-report", action="store_true", help="do not write report.html")
    lo.add_argument("--followup", choices=("auto", "always", "never"), default="auto",
                    help="design the follow-up experiment into DIR/followup/: auto = when the "
                         "verdict is discovery or needs follow-up (default)")
    lo.add_argument("--stimuli", metavar="DIR",
                    help="use your own stimuli instead of generating them: DIR/positives/, "
                         "DIR/negatives/<counter-concept>/, DIR/edits/<positive stem>/ "
                         "and/or DIR/manifest.csv (docs/localize.md, 'Your own stimuli'; "
                         "`braincause export-stimuli` makes one from a run)")
    lo.add_argument("--verify-stimuli", action="store_true",
                    help="with --stimuli: keep only the images the verifier agrees with "
                         "(default: every image is kept in the role you gave it)")
    lo.add_argument("--json", action="store_true", help="print result.json on stdout")
    lo.add_argument("--quiet", action="store_true", help="no progress messages")
    lo.set_defaults(func=cmd_localize)

    pr = sub.add_parser(
        "predict", help="predicted brain responses of any images (PNG/JPEG) in a subject",
        description="Predict the responses of IMAGES (PNG/JPEG files of any size, or folders "
                    "of them: their .png/.jpg/.jpeg files, sorted by name, subfolders not "
                    "searched) with the subject's fitted encoder (the cached fit localize "
                    "uses; fitted on first use). Each image is decoded to 8-bit RGB (EXIF "
                    "orientation applied, alpha dropped), centre-cropped to a square and "
                    "resized by the backbone; features go through the on-disk feature cache "
                    "in batches. Writes OUT (.csv or .tsv: one row per image, the mean "
                    "predicted response of each region over its voxels passing the encoder "
                    "filter r >= --threshold: the subject's labelled areas, visual_cortex = "
                    "all of them, and --region / --roi), OUT's stem .npz (every voxel's "
                    "prediction, r, the filter, the regions), .json (subject, encoder, "
                    "filter, conversion, image hashes) and lh./rh.<stem>.func.gii (one map "
                    "per image on fsaverage5 or the NSD betas' fsaverage; NaN off the "
                    "subject's voxels). The synthetic subjects were measured on rendered "
                    "scenes: predictions for photographs are extrapolations (docs/predict.md).",
        epilog="exit codes: 0 done, 2 bad input (unreadable image, folder without PNG/JPEG, "
               "unknown subject, a --region run of another subject, bad --roi file), 1 "
               "internal error.")
    pr.add_argument("images", nargs="+", metavar="IMAGES",
                    help="image files (PNG/JPEG) and/or folders of them")
    pr.add_argument("--subject", default="synth-01",
                    help="synthetic subject id (default synth-01); with --nsd-root an NSD "
                         "subject number (1-8)")
    pr.add_argument("--out", required=True, metavar="FILE",
                    help="the region-mean table (.csv or .tsv); the other files go beside it")
    pr.add_argument("--region", metavar="RUN_DIR",
                    help="a localize run of the same subject: add its causal and activation "
                         "regions (columns run_causal, run_activation)")
    pr.add_argument("--roi", metavar="FILE",
                    help="a region file: a TSV with a 'voxel' column (and optionally "
                         "'region'), e.g. a run's regions.tsv, or text of voxel indices")
    pr.add_argument("--nsd-root", metavar="DIR", help="predict for an NSD subject of this "
                                                      "local copy (docs/nsd.md)")
    pr.add_argument("--threshold", type=float,
                    help="encoder filter: minimum held-out r (default 0.2, the paper's)")
    pr.add_argument("--config", help="TOML config: its [backends.backbone] and [nsd] tables")
    pr.add_argument("--no-surface", action="store_true", help="do not write the GIFTI files")
    pr.add_argument("--no-cache", action="store_true",
                    help="recompute features and the encoder, ignoring the cache")
    pr.add_argument("--json", action="store_true", help="print the sidecar JSON on stdout")
    pr.add_argument("--quiet", action="store_true", help="no progress messages")
    pr.set_defaults(func=cmd_predict)

    xp = sub.add_parser(
        "explain", help="what a region answers to: concepts ranked by effect, and its facets",
        description="Explain a region on the subject's measured images: every vocabulary "
                    "concept, world category and attribute cue ranked by the region's mean "
                    "measured response with minus without it (95%% percentile-bootstrap CI), "
                    "and the region's top-driving images clustered into facets in backbone-"
                    "feature space (k by silhouette, or --facets), each with thumbnails and "
                    "caption keywords and a preferred image synthesized by gradient ascent on "
                    "the region's predicted response (backbone -> ridge). Writes "
                    "DIR/explain.json, DIR/dissection.png and DIR/facets/. Activation is not "
                    "causation: the drivers are hypotheses "
                    "(docs/explain.md). Synthetic subjects only for now.",
        epilog="exit codes: 0 done, 2 bad input (no region or both, unknown subject, a bad "
               "--roi file, a run of another subject), 1 internal error.")
    xp.add_argument("run_dir", nargs="?", metavar="RUN_DIR",
                    help="a localize run folder: explain its causal region")
    xp.add_argument("--roi", metavar="FILE",
                    help="a region: boolean .npy over the subject's voxels, a TSV/text of "
                         "voxel indices, or a lh./rh.*.label.gii (e.g. a run's surface/)")
    xp.add_argument("--subject", help="the subject of --roi (synthetic id, e.g. synth-01)")
    xp.add_argument("--out", required=True, metavar="DIR", help="output folder")
    xp.add_argument("--facets", type=int, metavar="K", help="number of facets (default: "
                                                            "chosen by silhouette over 2-5)")
    xp.add_argument("--seed", type=int, default=0, help="bootstrap, k-means and synthesis "
                                                        "seed")
    xp.add_argument("--no-synthesis", action="store_true",
                    help="do not synthesize a preferred image per facet (no encoder needed)")
    xp.add_argument("--quiet", action="store_true", help="no progress messages")
    xp.set_defaults(func=cmd_explain)

    ex = sub.add_parser(
        "export-stimuli", help="write a localize run's stimuli as a folder for --stimuli",
        description="Write the kept stimuli of a localize run (RUN_DIR/stimuli/) as a "
                    "stimulus folder that `localize CONCEPT --stimuli DIR` reads: "
                    "positives/<split>/, negatives/<counter-concept>/<split>/, "
                    "edits/<positive>/, controls/<positive>/, manifest.csv (path, role, "
                    "split, counter_concept, parent, text, in the run's order) and "
                    "counter_concepts.csv. Localizing the same concept on it with the "
                    "run's seed and config gives the run's result (docs/localize.md).",
        epilog="exit codes: 0 done, 2 bad input (incomplete run folder, --out not empty), "
               "1 internal error.")
    ex.add_argument("run_dir", metavar="RUN_DIR", help="the --out folder of a localize run")
    ex.add_argument("--out", required=True, metavar="DIR", help="a new or empty folder")
    ex.add_argument("--json", action="store_true", help="print the counts as JSON")
    ex.set_defaults(func=cmd_export_stimuli)

    de = sub.add_parser(
        "design", help="design the follow-up fMRI experiment of a localize run",
        description="Design the follow-up fMRI experiment of a localize run and write it to "
                    "RUN_DIR/followup/: the positives that drive the region most, their "
                    "counterfactual edits, the hardest negatives of each counter-concept and "
                    "the controls the measured data lacked, balanced for luminance, contrast "
                    "and colour; trials per condition from a power analysis (predicted "
                    "effects, measured trial noise); an event-related schedule (3 s on / 1 s "
                    "off, no image repeated back to back, no edit next to its positive) with "
                    "its GLM efficiency; BIDS events.tsv per run, a PsychoPy conditions.csv, "
                    "design.json and protocol.md. See docs/followup.md.",
        epilog="exit codes: 0 done, 2 bad input (missing or incomplete run folder, bad "
               "option), 1 internal error.")
    de.add_argument("run_dir", metavar="RUN_DIR", help="the --out folder of a localize run")
    de.add_argument("--seed", type=int, help="seed of the trial orders (default: the run's)")
    de.add_argument("--power", type=float, default=0.8,
                    help="target power of each contrast (default 0.8)")
    de.add_argument("--alpha", type=float,
                    help="significance level (default: the run's stats.alpha)")
    de.add_argument("--json", action="store_true", help="print design.json on stdout")
    de.add_argument("--quiet", action="store_true", help="no progress messages")
    de.set_defaults(func=cmd_design)

    be = sub.add_parser(
        "benchmark", help="score activation-only and causal localization against ground truth",
        description="The ground-truth benchmark (docs/benchmark.md): for every concept × "
                    "synthetic subject, plus repeated runs on the null subject, one localize "
                    "run scores five methods on the same stimuli: Max Activation (MAG), "
                    "MindSimulator (MAL), MindSimulator+VLM (MALF), BrainCause with the "
                    "paper's rule (TRAIN S_causal > 0) and braincause's corrected verdict. "
                    "Reports concept-level FPR/TPR, voxel precision/recall/Dice, known-area "
                    "alignment, null-subject family-wise error and the paper's Table 1 "
                    "columns. Writes DIR/benchmark.json, DIR/benchmark.md and "
                    "DIR/benchmark.png. Each finished run is recorded, so an interrupted "
                    "benchmark resumes.",
        epilog="exit codes: 0 done, 2 bad input (unknown concept or subject, bad config), "
               "1 internal error.")
    be.add_argument("--quick", action="store_true",
                    help="CI-sized: 4 concepts on synth-01 and synth-null, smallest config")
    be.add_argument("--out", help="output folder (default braincause-out/benchmark)")
    be.add_argument("--workers", type=int, default=2,
                    help="tasks at a time (default 2; 1 runs them in this process)")
    be.add_argument("--engine", choices=("local", "ray"), default="local",
                    help="where the tasks run: local process pool (default) or Ray "
                         "(docs/sweep.md); the results do not depend on it")
    be.add_argument("--address", metavar="ADDR",
                    help="with --engine ray: an existing cluster (auto, HOST:PORT, "
                         "ray://HOST:PORT); default: a local cluster for this run")
    be.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    be.add_argument("--concepts", nargs="+", metavar="CONCEPT",
                    help="concept names (default: the benchmark's 44)")
    be.add_argument("--subjects", nargs="+", metavar="SUBJECT",
                    help="subjects (default synth-01..04)")
    be.add_argument("--null-repeats", type=int,
                    help="runs per concept on synth-null (default 2; quick 1)")
    be.add_argument("--no-null", action="store_true", help="skip the null subject")
    be.add_argument("--config", help="TOML config of every localize run (default: "
                                     "localize's defaults; --quick: small sizes)")
    be.add_argument("--work", metavar="DIR",
                    help="folder of the per-run records (default: in the cache)")
    be.add_argument("--no-resume", action="store_true",
                    help="rerun every task even if its record exists")
    be.add_argument("--json", action="store_true", help="print benchmark.json on stdout")
    be.add_argument("--quiet", action="store_true", help="no progress messages")
    be.set_defaults(func=cmd_benchmark)

    sw = sub.add_parser(
        "sweep", help="localize many concepts in many subjects, with FDR and consistency",
        description="Run localize for every CONCEPT × subject (one task each) on an engine "
                    "(a local process pool, or Ray: --engine ray) and combine the runs: "
                    "DIR/<subject>/<concept>/ (a localize run folder each), DIR/sweep.json "
                    "(verdicts, the concept-level p-value of each run and its Benjamini-"
                    "Hochberg q-value across the subject's concepts, cross-subject Dice "
                    "and map correlation with spin-test p-values, group maps in "
                    "DIR/group/) and DIR/index.html (one self-contained page). Each task's "
                    "seed comes from --seed and the concept, so the results do not depend "
                    "on the engine, the workers or the order. Rerunning the same command "
                    "resumes: finished tasks are read back, failed ones stay failed "
                    "unless --retry-failed. See docs/sweep.md (clusters, cost).",
        epilog="exit codes: 0 done, 3 done but some tasks failed (listed in sweep.json), "
               "2 bad input (nothing run), 1 internal error.")
    sw.add_argument("concepts", nargs="*", metavar="CONCEPT",
                    help="concept queries (names, synonyms or free text)")
    sw.add_argument("--concept-file", metavar="FILE",
                    help="more concept queries, one per line (# starts a comment)")
    sw.add_argument("--subjects", nargs="+", metavar="SUBJECT",
                    help="synthetic subject ids (default synth-01); with --nsd-root NSD "
                         "subject numbers (1-8)")
    sw.add_argument("--out", required=True, metavar="DIR", help="the sweep folder")
    sw.add_argument("--seed", type=int, default=0, help="base seed (default 0)")
    sw.add_argument("--config", help="TOML config of every run (localize's format)")
    sw.add_argument("--nsd-root", metavar="DIR", help="run on NSD from this local copy")
    sw.add_argument("--engine", choices=("local", "ray"), default="local",
                    help="local process pool (default) or Ray")
    sw.add_argument("--address", metavar="ADDR",
                    help="with --engine ray: an existing cluster (auto, HOST:PORT, "
                         "ray://HOST:PORT); default: a local cluster on 127.0.0.1 for "
                         "this run")
    sw.add_argument("--workers", type=int,
                    help="tasks at a time (default 2; an existing Ray cluster: as many as "
                         "its resources hold; 1 runs them in this process)")
    sw.add_argument("--cpus-per-task", type=float,
                    help="CPU cores per task (default 1; also its thread count)")
    sw.add_argument("--gpus-per-task", type=float,
                    help="GPUs per task on Ray (default 1 when the config uses a GPU "
                         "model: diffusers, CLIP, a VLM, DINOv2; else 0)")
    sw.add_argument("--fdr", choices=("bh", "by"), default="bh",
                    help="q-values across each subject's concepts: Benjamini-Hochberg "
                         "(default) or Benjamini-Yekutieli (any dependence)")
    sw.add_argument("--q", type=float,
                    help="FDR level of 'discovery at FDR' (default: the config's "
                         "stats.alpha, 0.05)")
    sw.add_argument("--n-spins", type=int, default=1000,
                    help="rotations of the consistency spin test (default 1000; 0: none)")
    sw.add_argument("--retry-failed", action="store_true",
                    help="run again the tasks an earlier run recorded as failed")
    sw.add_argument("--no-report", action="store_true",
                    help="no report.html per run (the page then links to none)")
    sw.add_argument("--json", action="store_true", help="print sweep.json on stdout")
    sw.add_argument("--quiet", action="store_true", help="no progress messages")
    sw.set_defaults(func=cmd_sweep)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except (BrainCauseError, FileNotFoundError) as e:
        kind = "data error" if isinstance(e, (DataError, FileNotFoundError)) else "error"
        print(f"braincause: {kind}: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # output piped into a reader that stopped early (`braincause concepts | head`)
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("braincause: interrupted", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print("braincause: internal error (a bug: please report it with the command above)",
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
