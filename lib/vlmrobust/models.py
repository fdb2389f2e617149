"""Loading any model of the registry through one Hugging Face path.

``AutoProcessor`` + ``AutoModelForImageTextToText`` for every family: the demo zoo
(saved with ``save_pretrained``) loads exactly like ``google/gemma-3-4b-it``.
Precision and quantisation come from params: bf16 / fp16 / fp32, 4-bit NF4 through
bitsandbytes (the paper's P0), 8-bit.

Everything that can be checked before the weights load is checked first
(``check``): the source exists locally or on the hub, the quantisation can run on
this device, a chat-style model's processor has a chat template.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import digests, paths
from .params import fill_model

class ModelError(RuntimeError):
    """A model cannot be loaded as configured; the message says what to do."""


@dataclass
class LoadedModel:
    name: str
    source: str
    model: Any
    processor: Any
    revision: str
    device: str
    dtype: str
    quantization: str
    family: str | None
    prompt_style: str
    quantization_skip: str = ""  # the modules kept unquantized (``quantize_skip``), comma-separated


def expand_source(source: str, run: str) -> str:
    """``{run_dir}`` -> ``outputs/<run>`` (absolute)."""
    if "{run_dir}" in source:
        return source.replace("{run_dir}", str(paths.outputs_root() / run))
    return source


LOCAL_PREFIXES = ("outputs", "checkpoints", "models")


def is_local(source: str) -> bool:
    """A local directory rather than a hub id.

    Hub ids have the form ``org/name``. Anything absolute or starting with ``.``/``~``,
    anything that exists on disk, anything under ``outputs/``, ``checkpoints/`` or
    ``models/``, and anything with other than exactly one ``/`` is a local path.
    """
    if source.startswith((".", "/", "~")) or paths.resolve(source).exists():
        return True
    return source.split("/")[0] in LOCAL_PREFIXES or source.count("/") != 1


def pick_device(requested: str = "auto") -> str:
    import torch

    if requested and requested != "auto":
        return requested
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def local_revision(path: Path) -> str:
    """A content fingerprint for a local checkpoint: file names and sizes plus config bytes."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = f.relative_to(path).as_posix()
        h.update(f"{rel}:{f.stat().st_size};".encode())
        if f.name in ("config.json", "generation_config.json") or f.suffix == ".safetensors" and f.stat().st_size < 64e6:
            h.update(f.read_bytes())
    return "local-" + h.hexdigest()[:16]


def check_quantization(quantization: str, device: str) -> None:
    """Fail before loading weights when the installed bitsandbytes cannot run ``quantization`` here."""
    if quantization == "none":
        return
    try:
        import bitsandbytes as bnb  # noqa: F401
        import bitsandbytes.functional as F
        import torch
    except Exception as e:  # noqa: BLE001
        raise ModelError(f"quantization '{quantization}' needs bitsandbytes, which cannot be imported: {e}") from None
    dev = "cuda" if device.startswith("cuda") else device
    try:
        x = torch.randn(64, 64, device=dev, dtype=torch.float32)
        if quantization == "nf4":
            q, state = F.quantize_4bit(x, quant_type="nf4")
            F.dequantize_4bit(q, state)
        elif quantization == "int8":
            F.int8_vectorwise_quant(x.half() if dev == "cuda" else x)
        else:
            raise ModelError(f"unknown quantization {quantization!r}")
    except ModelError:
        raise
    except Exception as e:  # noqa: BLE001
        raise ModelError(f"the installed bitsandbytes cannot run '{quantization}' on device '{device}': "
                         f"{type(e).__name__}: {str(e)[:200]}") from None


NF4_BLOCK = 64       # bitsandbytes' 4-bit quantization block (weights per absmax)
NF4_CPU_TILE_N = 32  # its AVX512-BF16 CPU kernel packs output rows in tiles of 32


def nf4_narrow_layers(model) -> list[str]:
    """The 4-bit layers that bitsandbytes' AVX512-BF16 CPU path cannot repack.

    On CPUs with AVX512-BF16 (recent Intel Xeon and AMD EPYC), every ``Linear4bit`` is repacked at
    its first forward; that needs ``in_features`` a multiple of the 64-weight block and
    ``out_features`` a multiple of 32, or the reshape of its scales fails deep inside bitsandbytes.
    Real models are far wider; only a tiny test model can be this narrow.
    """
    return [f"{n} ({m.in_features} -> {m.out_features})" for n, m in model.named_modules()
            if type(m).__name__ == "Linear4bit"
            and (m.in_features % NF4_BLOCK or m.out_features % NF4_CPU_TILE_N)]


def check_nf4_widths(name: str, model) -> None:
    """Refuse, on every CPU alike, a model that NF4 on an AVX512-BF16 CPU would break on.

    Checked on any CPU (not only where the packed path runs) so that a params file that loads on
    one machine loads on every machine of the same kind.
    """
    narrow = nf4_narrow_layers(model)
    if narrow:
        shown = ", ".join(narrow[:4]) + (f" and {len(narrow) - 4} more" if len(narrow) > 4 else "")
        raise ModelError(
            f"model '{name}': NF4 on CPU needs every quantized linear layer's input width to be a multiple "
            f"of {NF4_BLOCK} and its output width a multiple of {NF4_CPU_TILE_N} (bitsandbytes repacks 4-bit "
            f"weights so on CPUs with AVX512-BF16); these are not: {shown}. Use quantization: none for "
            f"this model.")


def check_torchvision() -> None:
    """A torchvision that is installed but cannot import (the CUDA build beside a CPU torch) breaks
    every processor import, Gemma's included, with an unhelpful error: say so before anything loads."""
    import importlib
    import importlib.util

    if importlib.util.find_spec("torchvision") is None:
        return
    try:
        importlib.import_module("torchvision")
    except Exception as e:  # noqa: BLE001
        import torch

        raise ModelError(
            f"torchvision is installed but cannot be imported ({type(e).__name__}: {str(e)[:160]}); with it "
            f"every processor import fails. It must match torch {torch.__version__} and be the CUDA build "
            f"beside the CUDA torch wheel ([gpu] extra: torchvision==0.28.0). On a CPU machine uninstall it "
            f"(pip uninstall torchvision): the demo does not need it.") from None


def _hub_causes(e: BaseException) -> list[BaseException]:
    seen = []
    while e is not None and e not in seen:
        seen.append(e)
        e = e.__cause__ or e.__context__
    return seen


def hub_error(what: str, source: str, e: BaseException) -> "ModelError":
    """The one explanation of a failed hub read: gated (licence / login), not found or private, or
    neither in the cache nor downloadable. ``what`` names the thing asked for (e.g. "model 'P0-base'")."""
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    causes = _hub_causes(e)
    if any(isinstance(c, GatedRepoError) or "gated repo" in str(c).lower() for c in causes):
        return ModelError(
            f"{what}: '{source}' is a gated repository and this machine is not allowed to read it: "
            f"accept its licence on https://huggingface.co/{source} with your account, then log in here "
            f"with `hf auth login` (or set HF_TOKEN)")
    if any(isinstance(c, RepositoryNotFoundError) or " 401 " in f" {c} " for c in causes):
        return ModelError(
            f"{what}: '{source}' was not found on the hub, or it is private and you are not logged "
            f"in (`hf auth login`)")
    return ModelError(
        f"{what}: '{source}' is not in the local Hugging Face cache and cannot be downloaded "
        f"on this machine ({type(e).__name__}). Download it on a machine with network access "
        f"(huggingface-cli download {source}) and copy the cache, or give a local directory instead")


def _load_processor(name: str, source: str, revision: str | None):
    from transformers import AutoProcessor

    try:
        return AutoProcessor.from_pretrained(source, revision=revision)
    except Exception as e:  # noqa: BLE001
        if is_local(source):
            raise ModelError(f"model '{name}': cannot load a processor from {source}: {e}") from None
        err = hub_error(f"model '{name}'", source, e)
        raise ModelError(f"{err}; the source is models.{name}.source in the params file") from None


def check(name: str, spec: dict, run: str, device: str = "auto") -> dict:
    """Everything that can fail before weights load; returns the resolved source and device."""
    from .prompts import has_chat_template

    spec = fill_model(name, spec)
    source = expand_source(spec["source"], run)
    if spec["unresolved"]:
        raise ModelError(f"model '{name}' is unresolved: {spec['unresolved']}")
    if is_local(source):
        p = paths.resolve(source)
        if not (p / "config.json").exists():
            hint = (" Train the demo zoo first (make zoo, notebook 00)." if "zoo" in source else
                    " Point models.<name>.source at a directory saved with save_pretrained"
                    " (for InternVL2.5-2B: make convert-internvl, see README).")
            raise ModelError(f"model '{name}': no checkpoint at {p} (config.json missing).{hint}")
        try:  # a checkpoint covered by a SHA256SUMS manifest (the shipped demo zoo) is checked on every load
            digests.verify_checkpoint(p)
        except digests.DigestError as e:
            raise ModelError(f"model '{name}': {e}") from None
        source = str(p)
    dev = pick_device(device)
    check_quantization(spec["quantization"], dev)
    check_torchvision()
    processor = _load_processor(name, source, spec["revision"])
    if spec["prompt_style"] == "chat" and not has_chat_template(processor):
        raise ModelError(f"model '{name}': prompt_style is 'chat' but its processor has no chat template; "
                         f"use prompt_style: completion for a raw pretrained checkpoint")
    return {"source": source, "device": dev, "processor": processor}


def load(name: str, spec: dict, run: str, device: str = "auto", checked: dict | None = None) -> LoadedModel:
    """Load one model once (for all its datasets and conditions).

    ``checked`` is what ``check`` returned for this model, when the caller already ran it.
    """
    import torch
    from transformers import AutoModelForImageTextToText, BitsAndBytesConfig

    spec = fill_model(name, spec)
    c = checked or check(name, spec, run, device)
    source, dev, processor = c["source"], c["device"], c["processor"]
    dtype_name = spec["dtype"]
    dtype = "auto" if dtype_name == "auto" else getattr(torch, dtype_name)
    quant = spec["quantization"]
    # the given modules in addition to the output head, which bitsandbytes' default keeps too (an explicit
    # list replaces that default in transformers)
    skip = list(dict.fromkeys([*spec["quantize_skip"], "lm_head"])) if quant != "none" and spec["quantize_skip"] else None
    kwargs: dict[str, Any] = {"revision": spec["revision"], "dtype": dtype}
    if quant == "nf4":
        compute = torch.float16 if dev == "cuda" else (dtype if dtype != "auto" else torch.float32)
        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4",
                                                           bnb_4bit_compute_dtype=compute,
                                                           llm_int8_skip_modules=skip)
        kwargs["device_map"] = dev
    elif quant == "int8":
        kwargs["quantization_config"] = BitsAndBytesConfig(load_in_8bit=True, llm_int8_skip_modules=skip)
        kwargs["device_map"] = dev
    try:
        model = AutoModelForImageTextToText.from_pretrained(source, **kwargs)
    except Exception as e:  # noqa: BLE001
        raise ModelError(f"model '{name}': loading weights from {source} failed: {type(e).__name__}: {e}") from None
    if quant == "none":
        model = model.to(dev)
    if quant == "nf4" and dev == "cpu":
        check_nf4_widths(name, model)
    model.eval()
    processor.tokenizer.padding_side = "left"  # decoder-only batching: pad on the left
    if is_local(source):
        revision = local_revision(Path(source))
    else:
        revision = getattr(model.config, "_commit_hash", None) or spec["revision"] or "unknown"
    used_dtype = str(next(model.parameters()).dtype).replace("torch.", "")
    return LoadedModel(name=name, source=source, model=model, processor=processor, revision=revision,
                       device=dev, dtype=dtype_name if dtype_name != "auto" else used_dtype,
                       quantization=quant, family=spec["family"], prompt_style=spec["prompt_style"],
                       quantization_skip=", ".join(skip) if skip else "")


def describe(lm: LoadedModel) -> dict:
    n = sum(p.numel() for p in lm.model.parameters())
    layers = sorted({type(m).__name__ for m in lm.model.modules() if "Linear" in type(m).__name__})
    return {"model": lm.name, "source": lm.source, "revision": lm.revision, "device": lm.device,
            "dtype": lm.dtype, "quantization": lm.quantization, "parameters": n, "linear_layers": layers,
            "config": json.loads(lm.model.config.to_json_string())["architectures"]}
