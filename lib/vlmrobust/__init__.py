"""vlmrobust: the shared library of the aligned-VLM corruption-robustness compendium.

Notebooks under ``notebooks/`` are thin: they call these modules, show tables and
figures, and narrate. Each module holds one concept; imports run one way, from the
foundations (``paths``, ``params``, ``data``) through the pipeline (``corruptions``,
``models``, ``inference``, ``scoring``, ``metrics``) to the analyses and figures
(``analyses``, ``plots``); a test walks the imports and fails on any circle.

- ``paths``          where things live (repository root, ``outputs/<run>/``)
- ``params``         load ``params/*.yaml``, fill its defaults from one table, validate before any work
- ``design``         the study design of a run: evaluated models, pairs, labels, main prompt variant
- ``artifacts``      the files stages exchange, who makes them, the one atomic writer
- ``provenance``     git commit, package versions, colophon
- ``runner``         papermill orchestration used by the Makefile
- ``fingerprint``    what a notebook's execution depends on (the runner skips unchanged ones)
- ``progress``       progress bars that reach the terminal of ``make reproduce``
- ``data``           benchmarks: the synthetic four-task benchmark and hub/local loaders
- ``corruptions``    the 19 ImageNet-C corruptions, deterministic, and pre-generation
- ``prompts``        the exact prompt text per model style, prompt variants, option letters
- ``perturb``        misleading / truthful caption and hint lines (the text prompt variants)
- ``models``         loading any checkpoint through AutoProcessor + AutoModelForImageTextToText
- ``preflight``      models, datasets and disk checked before any download (``make preflight``)
- ``digests``        SHA-256 manifests of checkpoint folders (the shipped zoo is checked on every load)
- ``inference``      batched greedy generation over every condition, resumable store
- ``vision_cache``   vision-tower outputs computed once per (tower, image), shared by variants and models
- ``convert_internvl`` remote-code InternVL -> transformers-native checkpoint (``make convert-internvl``)
- ``conversion_check`` the converted checkpoint's logits against the remote-code model's (``--verify``)
- ``scoring``        the paper's per-dataset scorers and MCQ letter extraction
- ``answer_format``  is a response an answer of the form the question asks for
- ``refusal``        did a model refuse, say it cannot see, or comply (published refusal lists, a judge)
- ``safety_eval``    the run's safety measurement: items, images, responses and their refusal labels
- ``metrics``        accuracy tables, CE, mCE, Rel. mCE, mCR with uncertainty
- ``stats``          the statistics analyses share: exact tests, bootstrap, power, GEE and mixed models
- ``analyses``       one module per analysis notebook: scores in, tidy frames out
- ``plots``          the paper's figures and the ones that make a result obvious
- ``report``         the run report: the paper regenerated beside its published numbers (HTML)
- ``paper``          the seed paper's published tables as package data, and their audit
- ``verify``         a run's tables and predictions against the published run (``make verify``)
- ``findings``       the numbers the README and docs quote, generated from the published results
- ``zoo``            the demo zoo: tiny Gemma-3 VLMs trained offline (a package, one concept per module)
- ``paper_data``     (package data) the paper's Tables 2-11 as printed
"""

__version__ = "0.1.0"

# ``import vlmrobust as vr`` then ``vr.corruptions.corrupt(...)``: submodules load on first
# use (PEP 562). Notebooks use this form because several module names (``corruptions``,
# ``models``, ``inference``...) are also the names of top-level run parameters.


def __getattr__(name):
    import importlib
    import importlib.util

    if not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
