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


def export_ivon(model, optimizer, path, seed=0):
    names = {id(p): name for name, p in model.named_parameters()}
    tensors, groups = {}, []
    for index, group in enumerate(optimizer.param_groups):
        params = [p for p in group["params"] if p.requires_grad]
        hess = group["hess"].reshape(-1)
        momentum = group["momentum"].reshape(-1)
        total = sum(p.numel() for p in params)
        if hess.numel() != total or momentum.numel() != total:
            raise ValueError(
                f"group {index}: hess has {hess.numel()} and momentum {momentum.numel()} elements, "
                f"but the group's trainable parameters have {total}"
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
            "clipRadius": _number(group.get("clip_radius", math.inf)),
        }
        groups.append({"params": group_names, "hyper": hyper})
    first = optimizer.param_groups[0]
    options = {
        "mcSamples": int(first.get("mc_samples", 1)),
        "hessApprox": str(first.get("hess_approx", "price")),
        "debias": bool(first.get("debias", True)),
        "rescaleLr": bool(first.get("rescale_lr", True)),
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
