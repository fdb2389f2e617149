# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: tags,-all
#     formats: ipynb,py:percent
#     notebook_metadata_filter: kernelspec,jupytext
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 01 · The benchmark sample and its corrupted images
#
# The paper pre-generates every corrupted image at 224×224 *before* inference, "ensuring
# deterministic and reproducible evaluation". This notebook does the same for the run's
# params:
#
# 1. samples the benchmark items (seeded; `samples.parquet`),
# 2. pre-generates each item under every (corruption, severity) of the suite, plus the clean
#    image (`corruptions/manifest.parquet`, one row per image with its seed and sha256),
# 3. shows the paper's Figure 1 and all 19 corruptions on one image.
#
# In the demo run the benchmark is the synthetic four-task benchmark rendered offline; in the
# paper run it is GQA, VQAv2, TextVQA and MMBench. The code path is the same.

# %% tags=["parameters"]
params_file = "params/demo.yaml"  # the run: make injects its own params file here
overrides = {}  # e.g. {"benchmark": {"n": 20}}: merged into the file, then validated

# %%
import vlmrobust as vr

P = vr.params.load(params_file, overrides)  # validated run parameters
RUN = P["run"]
SUITE = vr.corruptions.resolve_suite(P["corruptions"]["suite"])
SEVERITIES = P["corruptions"]["severities"]
print(f"run '{RUN}': datasets {P['benchmark']['datasets']}, n = {P['benchmark']['n']} each; "
      f"suite '{P['corruptions']['suite']}' = {len(SUITE)} corruptions x severities {SEVERITIES}")

# %% [markdown]
# ## 1. Sample the benchmark
#
# Items are drawn with the run's seed (`seed`); the synthetic items are rendered from it, the
# hub datasets are sorted by id and then permuted with it, so the sample is the same on every
# machine.

# %%
samples = vr.data.load_samples(P)
vr.artifacts.write_parquet(samples, vr.artifacts.path(RUN, vr.artifacts.SAMPLES))
summary = samples.groupby("dataset").agg(items=("sample_id", "size"),
                                         question_types=("question_type", "nunique"),
                                         example=("question", "first"))
summary

# %%
samples.groupby("dataset").head(2)[["dataset", "sample_id", "question", "answer", "options"]]

# %% [markdown]
# ## 2. Pre-generate the corrupted images
#
# Each image's seed is derived from (run seed, dataset, sample id, corruption, severity) with
# SHA-256, `np.random.seed` is set right before each corruption, and `impulse_noise` and
# `glass_blur` (which ignore it) receive the seed directly. Work runs in a process pool (never
# threads: they share numpy's global RNG). A re-run verifies every file against the manifest's
# sha256 and regenerates only what is missing or changed.

# %%
manifest = vr.corruptions.generate(
    samples, vr.paths.run_dir(RUN) / "corruptions", suite=SUITE, severities=SEVERITIES,
    run_seed=P["seed"], fmt=P["corruptions"]["format"],
    quality=P["corruptions"]["jpeg_quality"], workers=P["corruptions"]["workers"])
print(f"{len(manifest)} images ({manifest['sha256'].nunique()} distinct), format "
      f"{manifest['format'].iloc[0]}, in {vr.paths.run_dir(RUN) / 'corruptions'}")
manifest.pivot_table(index=["family", "corruption"], columns="severity", values="sample_id",
                     aggfunc="count", fill_value=0)

# %% [markdown]
# ## 3. Figure 1: one image under Gaussian noise
#
# The paper's Figure 1 shows a clean image and Gaussian noise at severities 1, 3 and 5. We use
# an item whose answer depends on fine detail (scene text where the run has it).

# %%
text_sets = [d for d in P["benchmark"]["datasets"] if vr.data.DATASETS[d]["scorer"] == "exact"]
pool = samples[samples["dataset"] == (text_sets[0] if text_sets else samples["dataset"].iloc[0])]
if "n_objects" in pool:  # synthetic: show a busy scene
    pool = pool.sort_values("n_objects", ascending=False, kind="stable")
item = pool.iloc[0]


def corrupted(name, severity):
    seed = vr.corruptions.derive_seed(P["seed"], item["dataset"], item["sample_id"], name, severity)
    return vr.corruptions.corrupt(item["image"], name, severity, seed)


fig = vr.plots.severity_strip([item["image"]] + [corrupted("gaussian_noise", s) for s in (1, 3, 5)],
                           ["clean", "severity 1", "severity 3", "severity 5"],
                           f"Gaussian noise on {item['dataset']} / {item['sample_id']}: {item['question']}")
vr.plots.save(fig, RUN, "figure1_gaussian_noise")

# %% [markdown]
# ## 4. All 19 corruptions at severities 3 and 5
#
# The 15 ImageNet-C benchmark corruptions (noise, blur, weather, digital) and the 4 held-out
# ones (speckle noise, Gaussian blur, spatter, saturate), on the same image.

# %%
grid = {(c, s): corrupted(c, s) for c in vr.corruptions.CORRUPTIONS for s in (3, 5)}
fig = vr.plots.corruption_grid(grid, vr.corruptions.FAMILIES, [3, 5])
vr.plots.save(fig, RUN, "corruptions_all19_sev3_sev5")

# %% [markdown]
# ## Where this implementation differs from the original ImageNet-C code
#
# The corruptions come from the maintained `imagecorruptions-imaug` fork of `imagecorruptions`
# (the released `imagecorruptions` 1.1.2 no longer runs on numpy 2 / scikit-image ≥ 0.19).
# Compared with Hendrycks & Dietterich's `make_imagenet_c.py` at 224×224:
#
# * **bit-identical** for the noises, defocus, Gaussian and glass blur, zoom blur, fog,
#   brightness, contrast, saturate, pixelate and JPEG (same seed);
# * **within 1–2 grey levels** for motion blur and snow (numpy re-implementation of
#   ImageMagick's motion blur);
# * **different** for **frost** (the texture is always upscaled ×1.1 before cropping, and all six
#   textures are used where the original never drew the sixth) and **elastic_transform** (no
#   random affine; sigma and alpha scale with image size, so severities 1–2 are much milder).
#
# The constants are ImageNet's, tuned for 224×224 inputs: that is why every image is resized
# and centre-cropped to 224×224 first (`benchmark.image_size`). Released ImageNet-C images are
# additionally JPEG-compressed at quality 85; set `corruptions.format: jpeg` to mimic that (the
# paper saved JPEGs), `png` (default) keeps the corruption alone.

# %%
vr.provenance.colophon()
