"""Export an ivon-opt (PyTorch) posterior as an ivon-edge checkpoint (safetensors).

Why: a posterior trained with the PyTorch reference can be resumed or served by ivon-edge in a
browser or on the edge. See tools/README.md for the mapping; the file layout is the one
src/checkpoint/ reads (test/fixtures/ivon-torch-export.safetensors is laid out exactly like it).

Usage:
    from export_ivon_torch import export_ivon
    export_ivon(model, optimizer, "posterior.safetensors")   # optimizer = ivon.IVON(...)

Needs: torch, safetensors.
"""

import json
import math

import torch
from safetensors.torch import save_file

FORMAT = "ivon-edge.checkpoint"
FORMAT_VERSION = "1"


def _number(value):
    """JSON has no Infinity: ivon-edge reads infinite hyper-parameters as the string "Infinity"."""
    value = float(value)
    if math.isnan(value):
        raise ValueError("a hyper-parameter is NaN")
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _float32(tensor, shape):
    # clone(): safetensors refuses tensors that share storage (slices of one flat buffer do).
    return tensor.detach().to(device="cpu", dtype=torch.float32).reshape(shape).clone().contiguous()


def _json(value):
    return json.dumps(value, separators=(",", ":"))


def _optimizer_option(optimizer, name, default=None):
    """ivon-opt keeps hess_approx, debias, rescale_lr and mc_samples as attributes of the optimizer
    object (0.1.3: self.hess_approx = ...), not in param_groups. Every release has rescale_lr; the
    code before the first one always rescaled, hence its default. Anything else missing means this is
    no ivon-opt IVON."""
    if hasattr(optimizer, name):
        return getattr(optimizer, name)
    if default is not None:
        return default
    raise ValueError(f"the optimizer has no attribute {name!r}: pass an ivon.IVON optimizer (ivon-opt)")


def export_ivon(model, optimizer, path, seed=0):
    """Writes `optimizer`'s posterior over `model` to `path`. Every parameter of every group is
    exported, requires_grad=False ones included: ivon-opt keeps curvature and momentum for all of
    them (its flat per-group vectors cover every parameter of the group) and samples, decays and
    updates them with a zero gradient; in ivon-edge write a zero gradient for them to do the same."""
    names = {id(p): name for name, p in model.named_parameters()}
    tensors, groups = {}, []
    for index, group in enumerate(optimizer.param_groups):
        params = [p for p in group["params"] if p is not None]
        hess = group["hess"].reshape(-1)
        momentum = group["momentum"].reshape(-1)
        total = sum(p.numel() for p in params)
        if hess.numel() != total or momentum.numel() != total:
            raise ValueError(
                f"group {index}: hess has {hess.numel()} and momentum {momentum.numel()} elements, "
                f"but the group's parameters have {total}"
            )
        group_names, offset = [], 0
        for p in params:
            if id(p) not in names:
                raise ValueError(f"group {index}: a parameter is not in model.named_parameters()")
            name, count = names[id(p)], p.numel()
            tensors[name + ".mean"] = _float32(p, p.shape)
            tensors[name + ".hess"] = _float32(hess[offset : offset + count], p.shape)
            tensors[name + ".momentum"] = _float32(momentum[offset : offset + count], p.shape)
            group_names.append(name)
            offset += count
        hyper = {
            "lr": _number(group["lr"]),
            "ess": _number(group["ess"]),
            "hessInit": _number(group["hess_init"]),
            "weightDecay": _number(group["weight_decay"]),
            "beta1": _number(group["beta1"]),
            "beta2": _number(group["beta2"]),
            # ivon-opt keeps clip_radius per group (its defaults); an attribute only where a fork has one.
            "clipRadius": _number(group.get("clip_radius", getattr(optimizer, "clip_radius", math.inf))),
        }
        groups.append({"params": group_names, "hyper": hyper})
    options = {
        "mcSamples": int(_optimizer_option(optimizer, "mc_samples")),
        "hessApprox": str(_optimizer_option(optimizer, "hess_approx")),
        "debias": bool(_optimizer_option(optimizer, "debias")),
        "rescaleLr": bool(_optimizer_option(optimizer, "rescale_lr", True)),
        "seed": int(seed),
        "nonFinite": "error",
    }
    metadata = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "optimizer": "ivon",
        "step": str(int(optimizer.current_step)),
        "skipped_steps": "0",
        "options": _json(options),
        "groups": _json(groups),
        "rng": _json({"seed": int(seed), "predictDraws": 0}),
    }
    save_file(tensors, path, metadata=metadata)
