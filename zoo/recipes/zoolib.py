"""Shared pieces of the zoo recipes: seeding, training loops, distillation, pruning helpers,
int8 (QOperator) conversion and ONNX export. Offline only: serving never imports Python."""
import hashlib
import json
import math
import os
import random
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def evaluate(model, x, y, batch=1000):
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            correct += (model(x[i:i + batch]).argmax(1) == y[i:i + batch]).sum().item()
    return correct / len(x)


def teacher_logits(teacher, x, batch=1000):
    """The teacher's logits on every training input, computed once so that distillation costs
    no teacher forward pass per step (students then train without augmentation)."""
    teacher.eval()
    with torch.no_grad():
        return torch.cat([teacher(x[i:i + batch]) for i in range(0, len(x), batch)])


def train(model, x, y, epochs, lr, augment=None, soft_targets=None, temperature=4.0, alpha=0.7,
          batch=128, weight_decay=5e-4, name="model", eval_set=None):
    """SGD with one-cycle schedule; with `soft_targets` (teacher logits aligned with x), knowledge
    distillation as in Hinton et al.: alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE."""
    assert soft_targets is None or augment is None, "distillation targets are for unaugmented inputs"
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True,
                          weight_decay=weight_decay)
    steps = epochs * math.ceil(len(x) / batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.2)
    for epoch in range(epochs):
        model.train()
        t0 = time.time()
        perm = torch.randperm(len(x))
        total = 0.0
        for i in range(0, len(x), batch):
            idx = perm[i:i + batch]
            xb, yb = x[idx], y[idx]
            if augment is not None:
                xb = augment(xb)
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            if soft_targets is not None:
                soft = F.softmax(soft_targets[idx] / temperature, dim=1)
                kd = F.kl_div(F.log_softmax(out / temperature, dim=1), soft,
                              reduction="batchmean") * temperature * temperature
                loss = alpha * kd + (1 - alpha) * loss
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(idx)
        msg = f"{name} epoch {epoch + 1}/{epochs} loss {total / len(x):.4f} {time.time() - t0:.0f}s"
        if eval_set is not None:
            msg += f" holdout acc {evaluate(model, *eval_set):.4f}"
        log(msg)
    model.eval()
    return model


def export_onnx(model, example, path, input_name, output_name="logits"):
    model.eval()
    torch.onnx.export(model, example, path, input_names=[input_name], output_names=[output_name],
                      dynamic_axes={input_name: {0: "batch"}, output_name: {0: "batch"}},
                      opset_version=13, do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path))


def count_params(model):
    return int(sum(p.numel() for p in model.parameters()))


def count_macs(model, example):
    """Multiply-accumulates of one forward pass, counted with hooks on conv and linear layers."""
    macs = [0]

    def conv_hook(mod, inp, out):
        k = mod.kernel_size[0] * mod.kernel_size[1] * (mod.in_channels // mod.groups)
        macs[0] += int(out.numel() // out.shape[0] * k)

    def conv1d_hook(mod, inp, out):
        k = mod.kernel_size[0] * (mod.in_channels // mod.groups)
        macs[0] += int(out.numel() // out.shape[0] * k)

    def linear_hook(mod, inp, out):
        macs[0] += int(mod.in_features * mod.out_features)

    def gru_hook(mod, inp, out):
        steps = inp[0].shape[1] if mod.batch_first else inp[0].shape[0]
        h, i = mod.hidden_size, mod.input_size
        macs[0] += int(steps * 3 * (i * h + h * h))

    hooks = []
    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hooks.append(m.register_forward_hook(conv_hook))
        elif isinstance(m, nn.Conv1d):
            hooks.append(m.register_forward_hook(conv1d_hook))
        elif isinstance(m, nn.Linear):
            hooks.append(m.register_forward_hook(linear_hook))
        elif isinstance(m, nn.GRU):
            hooks.append(m.register_forward_hook(gru_hook))
    model.eval()
    with torch.no_grad():
        model(example[:1])
    for h in hooks:
        h.remove()
    return macs[0]


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        h.update(f.read())
    return h.hexdigest()


def write_json(path, data):
    with open(path, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")


# ---------------------------------------------------------------------------------------------
# int8 static quantization, QOperator form.
# The float network is described as a list of stages: ("conv", conv, relu, pool) and ("fc", ...).
# Activations are calibrated on training inputs (99.99th percentile of each ReLU output), weights
# are quantized symmetric per output channel, and every conv/linear with ReLU becomes a QLinearConv
# whose uint8 output with zero point 0 is the ReLU. The classifier head stays float (a few
# thousand MACs), which is the usual choice for accuracy.
# ---------------------------------------------------------------------------------------------

def copy_kept_channels(src_blocks, dst_blocks, kept, inputs):
    """Structured pruning: copies into each smaller (conv, batch norm, ...) block of `dst_blocks`
    the output channels `kept[i]` of the matching block of `src_blocks`, reading the channels the
    previous block kept (`inputs`: the input channels of the first). Returns the last block's kept
    channels, for the layer that follows."""
    prev = inputs
    for src, dst, idx in zip(src_blocks, dst_blocks, kept):
        dst[0].weight.data = src[0].weight.data[idx][:, prev].clone()
        dst[0].bias.data = src[0].bias.data[idx].clone()
        for name in ("weight", "bias", "running_mean", "running_var"):
            getattr(dst[1], name).data = getattr(src[1], name).data[idx].clone()
        prev = idx
    return prev


def fold_bn(conv, bn):
    """Returns (weight, bias) of `conv` followed by eval-mode `bn`, as numpy arrays."""
    w = conv.weight.detach().numpy().astype(np.float64)
    b = conv.bias.detach().numpy().astype(np.float64) if conv.bias is not None else np.zeros(w.shape[0])
    if bn is None:
        return w, b
    gamma = bn.weight.detach().numpy()
    beta = bn.bias.detach().numpy()
    mean = bn.running_mean.detach().numpy()
    var = bn.running_var.detach().numpy()
    s = gamma / np.sqrt(var + bn.eps)
    shape = (-1,) + (1,) * (w.ndim - 1)
    return w * s.reshape(shape), (b - mean) * s + beta


def quantize_qoperator(layers, head, input_shape, calib_fn, path, input_name="image",
                       input_scale=1.0 / 255.0, input_signed=False):
    """Builds an int8 QOperator ONNX model.

    layers: list of dicts {w, b, stride, pad, pool} for conv-like layers (w: [M, C, kh, kw] float,
            conv followed by ReLU, then optional max pool of size `pool`).
    head:   (w [classes, features], b) float classifier applied after DequantizeLinear + Flatten.
    calib_fn(i): float activation (numpy, post-ReLU, pre-pool) of layer i over calibration inputs.
    input_scale: scale of the input quantization; inputs are uint8 with zero point 0 (images in
            [0, 1] are exact at 1/255) or int8 with zero point 0 when input_signed.
    """
    nodes, inits = [], []
    in_type = TensorProto.INT8 if input_signed else TensorProto.UINT8
    np_in = np.int8 if input_signed else np.uint8

    def const(name, arr):
        inits.append(numpy_helper.from_array(arr, name))
        return name

    const("x_scale", np.array(input_scale, dtype=np.float32))
    const("x_zp", np.array(0, dtype=np_in))
    nodes.append(helper.make_node("QuantizeLinear", [input_name, "x_scale", "x_zp"], ["x_q"]))
    prev, prev_scale, prev_scale_name, prev_zp = "x_q", input_scale, "x_scale", "x_zp"
    for i, layer in enumerate(layers):
        w, b = layer["w"], layer["b"]
        act = calib_fn(i)
        y_scale = max(float(np.percentile(act, 99.99)), 1e-6) / 255.0
        w_scale = np.maximum(np.abs(w).reshape(w.shape[0], -1).max(axis=1), 1e-8) / 127.0
        shape = (-1,) + (1,) * (w.ndim - 1)
        w_q = np.clip(np.round(w / w_scale.reshape(shape)), -127, 127).astype(np.int8)
        b_q = np.round(b / (prev_scale * w_scale)).astype(np.int32)
        names = [const(f"w{i}", w_q), const(f"w{i}_scale", w_scale.astype(np.float32)),
                 const(f"w{i}_zp", np.zeros(w.shape[0], dtype=np.int8)),
                 const(f"y{i}_scale", np.array(y_scale, dtype=np.float32)),
                 const(f"y{i}_zp", np.array(0, dtype=np.uint8)), const(f"b{i}", b_q)]
        nk = w.ndim - 2
        attrs = {"kernel_shape": list(w.shape[2:]), "strides": [layer.get("stride", 1)] * nk,
                 "pads": [layer.get("pad", 0)] * (2 * nk)}
        nodes.append(helper.make_node(
            "QLinearConv", [prev, prev_scale_name, prev_zp] + names, [f"c{i}"], **attrs))
        out = f"c{i}"
        if layer.get("pool"):
            p = layer["pool"]
            nodes.append(helper.make_node("MaxPool", [out], [f"p{i}"], kernel_shape=[p] * nk,
                                          strides=[p] * nk))
            out = f"p{i}"
        prev, prev_scale, prev_scale_name, prev_zp = out, y_scale, f"y{i}_scale", f"y{i}_zp"
    nodes.append(helper.make_node("DequantizeLinear", [prev, prev_scale_name, prev_zp], ["h"]))
    nodes.append(helper.make_node("Flatten", ["h"], ["hf"], axis=1))
    hw, hb = head
    const("head_w", hw.astype(np.float32))
    const("head_b", hb.astype(np.float32))
    nodes.append(helper.make_node("Gemm", ["hf", "head_w", "head_b"], ["logits"], transB=1))
    graph = helper.make_graph(
        nodes, "int8", [helper.make_tensor_value_info(input_name, TensorProto.FLOAT,
                                                       ["batch"] + list(input_shape))],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", hw.shape[0]])],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, path)


def write_manifest(out, task, kind, classes, splits, comment, entries, seed, model_input):
    """Writes `<out>/manifest.json` in the format of src/zoo/manifest-schema.ts. `entries`: per model
    id, description, file, method, parent, parameters, macs; `model_input`: the input block every
    model of the task shares (name, shape, dtype, preprocessing). Hashes and sizes are read here."""
    models = []
    for e in entries:
        path = os.path.join(out, e["file"])
        models.append({
            "id": e["id"],
            "description": e["description"],
            "file": e["file"],
            "sha256": sha256_of(path),
            "bytes": os.path.getsize(path),
            "parameters": e["parameters"],
            "macs": e["macs"],
            "input": model_input,
            "output": {"name": "logits", "kind": "logits", "labels": classes},
            "compression": {"method": e["method"], "parent": e["parent"]},
            "trainedOn": {"split": "zoo", "seed": seed},
        })
    write_json(os.path.join(out, "manifest.json"), {
        "$comment": comment, "task": task, "kind": kind, "classes": classes, "splits": splits,
        "models": models,
    })
