"""Split-computing models for a zoo, trained as BottleFit does (Matsubara et al. 2022): a head that
runs on the device and ends in a narrow 8-bit bottleneck, and tails that finish the inference on
the server from what the device sends. One seeded command per task, CPU only:

    /usr/bin/python3 zoo/recipes/split.py --task har --windows .cache/har-windows --out zoo/har/heads
    /usr/bin/python3 zoo/recipes/split.py --task fashion --data /usr/share/datasets/fashion-mnist \\
        --out zoo/fashion/heads

The teacher is the served `cnn-full`, read from the task's committed ONNX file (batch norm is folded
into its convs there, so the torch teacher has no batch norm) and checked against the figures the
recipe measured. The network is cut after its first pool (conv-conv-pool): the head is cnn-full's
layers up to that point (initialised from cnn-full, then trained), plus an encoder that narrows the
features into the bottleneck; the server side starts with a small decoder back to cnn-full's width
at the split point.

    stage 1  head + encoder + decoder learn to reproduce cnn-full's features at the split point
             (MSE, the teacher frozen, on augmented zoo-split inputs);
    stage 2  the head is frozen; each tail learns from the bottleneck as the server receives it:
             `tail-full` = the stage-1 decoder + cnn-full's later layers (initialised from
             cnn-full), `tail-small` = a two-conv network on the bottleneck, both with cross-entropy
             plus distillation on cnn-full's soft labels (zoolib.train).

The bottleneck is sigmoid-bounded, so one fixed scale (1/255, zero point 0) fits it: the head's graph
ends in QuantizeLinear and returns uint8; training rounds the same way in the forward pass with a
straight-through gradient, so the tails learn on exactly the values the server dequantizes.

Output (`--out`, the contract of the TypeScript side): `<head-id>/head.onnx` (the task's cnn-full
input -> `bottleneck` uint8 [batch, ...shape]), `<head-id>/<tail-id>.onnx` (`bottleneck` float32,
dequantized -> `logits`), `<head-id>/manifest.json` (kind "bottleneck": the tails as models and a
top-level `head`). Sizes and epochs are chosen on the premodel split; the test split is read once,
at the end, for the report.
"""
import argparse
import copy
import json
import os
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import TensorProto, helper, numpy_helper

import fashion
import har
import zoolib
from zoolib import log

# The bottleneck's fixed uint8 quantization (sigmoid in [0, 1]); the scale is written as the float32 value
# the graph holds, so that the server's (q - 0) * scale is bit for bit what the tails trained on.
SCALE, ZERO_POINT = float(np.float32(1.0 / 255.0)), 0


# ---------------------------------------------------------------------------------------------
# The teacher: cnn-full rebuilt from its ONNX file.
# ---------------------------------------------------------------------------------------------

def load_folded_teacher(model, onnx_path):
    """Loads an exported, batch-norm-folded ONNX graph into `model` (the recipe's architecture):
    the batch norms of `model.convs` become identities, and the Conv and Gemm nodes, in graph
    order, give their weights to the Conv and Linear modules, in module order (the export keeps the
    forward order). Buffers the export kept by name (har's normalisation) are copied by name."""
    graph = onnx.load(onnx_path).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for block in model.convs:
        block[1] = nn.Identity()
    layers = [m for m in model.modules() if isinstance(m, (nn.Conv1d, nn.Conv2d, nn.Linear))]
    nodes = [n for n in graph.node if n.op_type in ("Conv", "Gemm")]
    assert len(layers) == len(nodes), f"{onnx_path}: {len(nodes)} Conv/Gemm nodes for {len(layers)} layers"
    with torch.no_grad():
        for layer, node in zip(layers, nodes):
            w = init[node.input[1]]
            assert tuple(w.shape) == tuple(layer.weight.shape), (node.name, w.shape, layer.weight.shape)
            layer.weight.copy_(torch.from_numpy(w.copy()))
            if len(node.input) > 2:
                layer.bias.copy_(torch.from_numpy(init[node.input[2]].copy()))
            else:
                assert layer.bias is None
        for name, buf in model.named_buffers():
            if name in init:
                buf.copy_(torch.from_numpy(init[name].copy()).reshape(buf.shape))
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


# ---------------------------------------------------------------------------------------------
# cnn-full cut after its first pool, per task. Front(x) -> features at the split point;
# Back(features) -> logits; Back(Front(x)) is cnn-full(x).
# ---------------------------------------------------------------------------------------------

class HarFront(nn.Module):
    def __init__(self, cnn, cut):
        super().__init__()
        self.pre, self.convs, self.pools = cnn.pre, cnn.convs[:cut], har.HarCnn.POOLS[:cut]

    def forward(self, x):
        f = self.pre(x)
        for block, pool in zip(self.convs, self.pools):
            f = block(f)
            if pool:
                f = F.max_pool1d(f, pool)
        return f


class HarBack(nn.Module):
    def __init__(self, cnn, cut):
        super().__init__()
        self.convs, self.pools = cnn.convs[cut:], har.HarCnn.POOLS[cut:]
        self.drop, self.fc = cnn.drop, cnn.fc

    def forward(self, f):
        for block, pool in zip(self.convs, self.pools):
            f = block(f)
            if pool:
                f = F.max_pool1d(f, pool)
        return self.fc(self.drop(f.mean(2)))


class FashionFront(nn.Module):
    POOLED = (1, 3)  # fashion.VggNet pools after these convs

    def __init__(self, vgg, cut):
        super().__init__()
        self.convs = vgg.convs[:cut]

    def forward(self, x):
        for i, block in enumerate(self.convs):
            x = block(x)
            if i in self.POOLED:
                x = F.max_pool2d(x, 2)
        return x


class FashionBack(nn.Module):
    def __init__(self, vgg, cut):
        super().__init__()
        self.cut, self.convs = cut, vgg.convs[cut:]
        self.fc1, self.drop, self.fc2 = vgg.fc1, vgg.drop, vgg.fc2

    def forward(self, x):
        for i, block in enumerate(self.convs, self.cut):
            x = block(x)
            if i in FashionFront.POOLED:
                x = F.max_pool2d(x, 2)
        return self.fc2(self.drop(F.relu(self.fc1(x.flatten(1)))))


# ---------------------------------------------------------------------------------------------
# Bottleneck, head and tails (dims: 1 for har's [C, T] features, 2 for fashion's [C, H, W]).
# ---------------------------------------------------------------------------------------------

def conv_bn(dims, cin, cout, k=3, stride=1, relu=True):
    conv = (nn.Conv1d if dims == 1 else nn.Conv2d)(cin, cout, k, stride=stride, padding=k // 2)
    bn = (nn.BatchNorm1d if dims == 1 else nn.BatchNorm2d)(cout)
    return nn.Sequential(conv, bn, nn.ReLU()) if relu else nn.Sequential(conv, bn)


class Quant8(nn.Module):
    """Sigmoid, then uint8 rounding at the fixed scale 1/255 (zero point 0) with a straight-through
    gradient: the forward pass yields exactly the dequantized values the server computes."""

    def forward(self, z, quantize=True):
        y = torch.sigmoid(z)
        if not quantize:
            return y
        q = y / SCALE
        return (q + (torch.round(q) - q).detach()) * SCALE


class Head(nn.Module):
    """Device side: cnn-full's first layers, an encoder (conv to half the width, then a strided conv
    to the bottleneck's few channels) and the bounded, quantized bottleneck."""

    def __init__(self, front, dims, width, channels, stride):
        super().__init__()
        self.front = front
        self.encoder = nn.Sequential(conv_bn(dims, width, width // 2),
                                     conv_bn(dims, width // 2, channels, stride=stride, relu=False))
        self.quant = Quant8()

    def forward(self, x, quantize=True):
        return self.quant(self.encoder(self.front(x)), quantize)


class HeadGraph(nn.Module):
    """What head.onnx computes before its QuantizeLinear: the sigmoid's output."""

    def __init__(self, head):
        super().__init__()
        self.head = head

    def forward(self, x):
        return self.head(x, quantize=False)


class Upsample(nn.Module):
    """Sub-pixel upsampling by `s` (channels c*s^d + k -> position k of cell c), so that the decoder
    is one plain conv whose multiply-accumulates zoolib counts; 2D is nn.PixelShuffle."""

    def __init__(self, dims, s):
        super().__init__()
        self.dims, self.s = dims, s
        self.shuffle = nn.PixelShuffle(s) if dims == 2 else None

    def forward(self, x):
        if self.dims == 2:
            return self.shuffle(x)
        b, c, t = x.shape
        return x.reshape(b, c // self.s, self.s, t).transpose(2, 3).reshape(b, c // self.s, t * self.s)


def decoder(dims, channels, width, stride):
    """Server side, first: back to cnn-full's width and resolution at the split point (post-ReLU
    features, so it ends in a ReLU)."""
    return nn.Sequential(conv_bn(dims, channels, width * stride ** dims), Upsample(dims, stride))


def fold_decoder(dec):
    """The decoder with its batch norm folded into the conv: cnn-full's later layers have theirs
    folded too, so the whole of tail-full computes the same function in training as in evaluation
    (batch statistics of a BN in front of BN-free layers made its accuracy swing between epochs)."""
    conv, bn = dec[0][0], dec[0][1]
    w, b = zoolib.fold_bn(conv, bn)
    folded = copy.deepcopy(conv)
    with torch.no_grad():
        folded.weight.copy_(torch.tensor(w, dtype=torch.float32))
        folded.bias.copy_(torch.tensor(b, dtype=torch.float32))
    return nn.Sequential(folded, nn.ReLU(), dec[1])


class SmallTail(nn.Module):
    """The cheap tail: two narrow convs on the bottleneck and a linear classifier."""

    def __init__(self, dims, channels, spatial, classes, width=32):
        super().__init__()
        self.convs = nn.Sequential(conv_bn(dims, channels, width), conv_bn(dims, width, width))
        self.fc = nn.Linear(width * int(np.prod(spatial)), classes)

    def forward(self, b):
        return self.fc(self.convs(b).flatten(1))


# ---------------------------------------------------------------------------------------------
# The tasks: data, teacher and where to cut.
# ---------------------------------------------------------------------------------------------

def har_task(args):
    x, y, meta = har.load_split(args.windows, "zoo")
    px, py, _ = har.load_split(args.windows, "premodel")
    teacher = load_folded_teacher(har.HarCnn(har.Pre(np.zeros(9), np.ones(9))),
                                  os.path.join(args.zoo, "cnn-full.onnx"))
    return {
        "x": x, "y": y, "holdout": (px, py), "augment": har.augment, "dims": 1,
        "teacher": teacher, "front": HarFront, "back": HarBack,
        "test": lambda: har.load_split(args.windows, "test")[:2],
        "description": "HAPT windows",
    }


def fashion_task(args):
    images = fashion.read_idx(fashion.find(args.data, "train-images-idx3-ubyte"))
    labels = fashion.read_idx(fashion.find(args.data, "train-labels-idx1-ubyte"))

    def tensors(im, lab):
        return torch.tensor(im, dtype=torch.float32).unsqueeze(1) / 255.0, torch.tensor(lab, dtype=torch.long)

    def test():
        return tensors(fashion.read_idx(fashion.find(args.data, "t10k-images-idx3-ubyte")),
                       fashion.read_idx(fashion.find(args.data, "t10k-labels-idx1-ubyte")))

    x, y = tensors(images[:fashion.ZOO_SPLIT], labels[:fashion.ZOO_SPLIT])
    teacher = load_folded_teacher(fashion.VggNet(), os.path.join(args.zoo, "cnn-full.onnx"))
    return {
        "x": x, "y": y, "holdout": tensors(images[fashion.ZOO_SPLIT:], labels[fashion.ZOO_SPLIT:]),
        "augment": fashion.augment, "dims": 2,
        "teacher": teacher, "front": FashionFront, "back": FashionBack, "test": test,
        "description": "Fashion-MNIST images",
    }


TASKS = {"har": har_task, "fashion": fashion_task}
DEFAULTS = {  # har: chosen on the premodel split; fashion: kept short (zoo/README.md, "Split models")
    "har": {"channels": 8, "stride": 2, "epochs1": 30, "epochs2": 3, "epochs_small": 20, "copies": 3,
            "subset": 0},
    "fashion": {"channels": 6, "stride": 2, "epochs1": 4, "epochs2": 2, "epochs_small": 4, "copies": 1,
                "subset": 20000},
}


# ---------------------------------------------------------------------------------------------
# Training.
# ---------------------------------------------------------------------------------------------

def batched(fn, x, batch=500):
    with torch.no_grad():
        return torch.cat([fn(x[i:i + batch]) for i in range(0, len(x), batch)])


def train_stage1(head, dec, teacher_front, x, augment, epochs, lr, holdout, batch=128):
    """BottleFit stage 1: decoder(head(x)) regresses the frozen teacher's split-point features
    (MSE), with the bottleneck already rounded to 8 bits. Adam with a one-cycle schedule."""
    params = [p for p in list(head.parameters()) + list(dec.parameters()) if p.requires_grad]
    opt = torch.optim.Adam(params, lr=lr)
    steps = epochs * ((len(x) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.2)
    target_holdout = batched(teacher_front, holdout)
    for epoch in range(epochs):
        head.train()
        dec.train()
        t0, total = time.time(), 0.0
        perm = torch.randperm(len(x))
        for i in range(0, len(x), batch):
            xb = augment(x[perm[i:i + batch]])
            with torch.no_grad():
                target = teacher_front(xb)
            loss = F.mse_loss(dec(head(xb)), target)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            total += loss.item() * len(xb)
        head.eval()
        dec.eval()
        held = F.mse_loss(batched(lambda b: dec(head(b)), holdout), target_holdout).item()
        log(f"stage 1 epoch {epoch + 1}/{epochs} mse {total / len(x):.4f}, premodel split "
            f"{held:.4f} (feature variance {target_holdout.var().item():.4f}) {time.time() - t0:.0f}s")
    for p in head.parameters():
        p.requires_grad_(False)
    return head.eval(), dec.eval()


def stage2_set(head, teacher, x, augment, copies):
    """The tails' training set: the zoo split, plus `copies - 1` augmented copies, passed once
    through the frozen head (bottleneck, dequantized) and the teacher (soft labels). The head is
    frozen, so computing its output once is the same as computing it every step."""
    xs = [x] + [augment(x) for _ in range(copies - 1)]
    bottleneck = torch.cat([batched(head, xi) for xi in xs])
    soft = torch.cat([zoolib.teacher_logits(teacher, xi) for xi in xs])
    return bottleneck, soft


# ---------------------------------------------------------------------------------------------
# Export.
# ---------------------------------------------------------------------------------------------

def export_head(head, example, path, input_name):
    """head.onnx: the float graph up to the sigmoid, then QuantizeLinear (scale 1/255, zero point 0)
    to the uint8 `bottleneck` output, batch axis dynamic."""
    zoolib.export_onnx(HeadGraph(head), example, path, input_name, "bounded")
    model = onnx.load(path)
    g = model.graph
    shape = [d.dim_param or d.dim_value for d in g.output[0].type.tensor_type.shape.dim]
    g.initializer.extend([numpy_helper.from_array(np.array(SCALE, dtype=np.float32), "bottleneck_scale"),
                          numpy_helper.from_array(np.array(ZERO_POINT, dtype=np.uint8), "bottleneck_zero_point")])
    g.node.append(helper.make_node("QuantizeLinear", ["bounded", "bottleneck_scale", "bottleneck_zero_point"],
                                   ["bottleneck"]))
    del g.output[:]
    g.output.append(helper.make_tensor_value_info("bottleneck", TensorProto.UINT8, shape))
    onnx.checker.check_model(model)
    onnx.save(model, path)


def write_manifests(out, task_manifest, head_entry, tails, shape, seed, comment):
    """`<out>/manifest.json`: the task manifest's schema with kind "bottleneck" (zoolib writes the
    tails as models), then the top-level `head` object."""
    tail_input = {"name": "bottleneck", "shape": shape, "dtype": "float32",
                  "preprocessing": {"type": "bottleneck", "shape": shape, "scale": SCALE,
                                    "zeroPoint": ZERO_POINT}}
    zoolib.write_manifest(out, task_manifest["task"], "bottleneck", task_manifest["classes"],
                          task_manifest["splits"], comment, tails, seed, tail_input)
    path = os.path.join(out, "manifest.json")
    with open(path) as f:
        manifest = json.load(f)
    head_path = os.path.join(out, head_entry["file"])
    full = next(m for m in task_manifest["models"] if m["id"] == "cnn-full")
    head = {
        "id": head_entry["id"], "description": head_entry["description"], "file": head_entry["file"],
        "sha256": zoolib.sha256_of(head_path), "bytes": os.path.getsize(head_path),
        "parameters": head_entry["parameters"], "macs": head_entry["macs"], "parent": "cnn-full",
        "input": full["input"],
        "bottleneck": {"name": "bottleneck", "shape": shape, "dtype": "uint8", "scale": SCALE,
                       "zeroPoint": ZERO_POINT},
        "trainedOn": {"split": "zoo", "seed": seed},
    }
    ordered = {k: manifest[k] for k in ("$comment", "task", "kind", "classes", "splits")}
    ordered["head"] = head
    ordered["models"] = manifest["models"]
    zoolib.write_json(path, ordered)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--task", choices=sorted(TASKS), required=True)
    ap.add_argument("--windows", default=".cache/har-windows", help="har: output of scripts/export-har-windows.ts")
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist", help="fashion: the IDX files")
    ap.add_argument("--zoo", default=None, help="the task's zoo folder with cnn-full.onnx and manifest.json "
                                                "(default zoo/<task>)")
    ap.add_argument("--out", default=None, help="default <zoo>/heads")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--channels", type=int, default=None, help="bottleneck channels (default per task)")
    ap.add_argument("--stride", type=int, default=None, help="the encoder's downsampling at the bottleneck")
    ap.add_argument("--epochs1", type=int, default=None, help="stage 1 epochs (feature regression)")
    ap.add_argument("--epochs2", type=int, default=None, help="stage 2 epochs of tail-full")
    ap.add_argument("--epochs-small", type=int, default=None, help="stage 2 epochs of tail-small")
    ap.add_argument("--copies", type=int, default=None,
                    help="stage 2 trains on the zoo split plus copies-1 augmented copies")
    ap.add_argument("--subset", type=int, default=None,
                    help="train on the first N zoo-split inputs only (0: all; default per task)")
    ap.add_argument("--lr2", type=float, default=0.003, help="stage 2 peak learning rate of tail-full")
    ap.add_argument("--cache", default=".cache", help="stage 1's checkpoint: saved after training, loaded "
                                                      "instead of training when it exists")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--no-test", action="store_true", help="do not read the test split at the end")
    args = ap.parse_args()
    for k, v in DEFAULTS[args.task].items():
        if getattr(args, k) is None:
            setattr(args, k, v)
    args.zoo = args.zoo or os.path.join("zoo", args.task)
    args.out = args.out or os.path.join(args.zoo, "heads")
    torch.set_num_threads(args.threads)
    zoolib.seed_everything(args.seed)
    started = time.time()

    with open(os.path.join(args.zoo, "manifest.json")) as f:
        task_manifest = json.load(f)
    input_block = next(m for m in task_manifest["models"] if m["id"] == "cnn-full")["input"]
    t = TASKS[args.task](args)
    x, y, holdout, teacher = t["x"], t["y"], t["holdout"], t["teacher"]
    if args.subset:
        x, y = x[:args.subset], y[:args.subset]
    dims, classes = t["dims"], len(task_manifest["classes"])
    log(f"{args.task}: {len(x)} zoo-split {t['description']}, {len(holdout[0])} premodel-split")

    # The teacher must be the served cnn-full: its premodel-split accuracy is the profiler's.
    teacher_acc = zoolib.evaluate(teacher, *holdout)
    served = next(m for m in task_manifest["models"] if m["id"] == "cnn-full").get("accuracy", {})
    log(f"teacher cnn-full from ONNX: premodel-split acc {teacher_acc:.4f} (profiled {served.get('premodel')})")
    cut = 2  # after conv-conv-pool
    teacher_front, teacher_back = t["front"](teacher, cut), t["back"](teacher, cut)
    assert torch.allclose(teacher_back(teacher_front(x[:64])), teacher(x[:64]), atol=1e-4)
    split_feat = teacher_front(x[:1])
    width, spatial_in = split_feat.shape[1], list(split_feat.shape[2:])

    # Stage 1: head (cnn-full's first layers, trainable copies) + encoder + decoder.
    head = Head(t["front"](copy.deepcopy(teacher), cut), dims, width, args.channels, args.stride)
    for p in head.front.parameters():
        p.requires_grad_(True)
    for p in getattr(head.front, "pre", nn.Identity()).parameters():
        p.requires_grad_(False)  # har's fixed low-pass filter stays fixed
    dec = decoder(dims, args.channels, width, args.stride)
    checkpoint = os.path.join(args.cache, f"split-{args.task}-c{args.channels}s{args.stride}e{args.epochs1}"
                                          f"n{len(x)}-seed{args.seed}.pt")
    if os.path.exists(checkpoint):
        state = torch.load(checkpoint)
        head.load_state_dict(state["head"])
        dec.load_state_dict(state["decoder"])
        for p in head.parameters():
            p.requires_grad_(False)
        head.eval(), dec.eval()
        log(f"stage 1 loaded from {checkpoint}")
    else:
        head, dec = train_stage1(head, dec, teacher_front, x, t["augment"], args.epochs1, 2e-3, holdout[0])
        os.makedirs(args.cache, exist_ok=True)
        torch.save({"head": head.state_dict(), "decoder": dec.state_dict()}, checkpoint)
    zoolib.seed_everything(args.seed + 1)  # stage 2 draws the same numbers whether stage 1 ran or was loaded
    shape = list(head(x[:1]).shape[1:])
    log(f"bottleneck {shape} = {int(np.prod(shape))} bytes as uint8; split-point features "
        f"{[width] + spatial_in} = {4 * width * int(np.prod(spatial_in))} bytes as float32")
    after_stage1 = nn.Sequential(head, dec, teacher_back).eval()
    log(f"after stage 1 (decoder + cnn-full's layers, not fine-tuned): premodel-split acc "
        f"{zoolib.evaluate(after_stage1, *holdout):.4f}")

    # Stage 2: the head is frozen; tails train on its quantized output.
    bx, soft = stage2_set(head, teacher, x, t["augment"], args.copies)
    by = y.repeat(args.copies)
    hb = (batched(head, holdout[0]), holdout[1])
    tail_full = nn.Sequential(fold_decoder(dec), copy.deepcopy(teacher_back))
    for p in tail_full.parameters():
        p.requires_grad_(True)
    # A low learning rate and a high distillation weight keep cnn-full's later layers near the teacher,
    # which generalises to new volunteers better than what 8 epochs on the zoo split alone can learn.
    tail_full = zoolib.train(tail_full, bx, by, args.epochs2, args.lr2, soft_targets=soft, alpha=0.9,
                             name="tail-full", eval_set=hb)
    tail_small = zoolib.train(SmallTail(dims, args.channels, shape[1:], classes), bx, by,
                              args.epochs_small, 0.05, soft_targets=soft, name="tail-small", eval_set=hb)

    # Export and manifest.
    head_id = f"cnn-full-b{args.channels}"
    folder = os.path.join(args.out, head_id)
    os.makedirs(folder, exist_ok=True)
    example, example_b = x[:1], hb[0][:1]
    export_head(head, example, os.path.join(folder, "head.onnx"), input_block["name"])
    bytes_in = 4 * int(np.prod(input_block["shape"]))
    head_entry = {
        "id": head_id, "file": "head.onnx", "parameters": zoolib.count_params(head),
        "macs": zoolib.count_macs(head, example),
        "description": f"cnn-full's layers up to its first pool (trained to keep its features), an encoder to "
                       f"{args.channels} channels with stride {args.stride} and a sigmoid quantized to uint8: "
                       f"{int(np.prod(shape))} bytes sent instead of {bytes_in} bytes of float32 input",
    }
    tails = []
    for tail_id, tail, parent, note in (
            ("tail-full", tail_full, None,
             f"decoder (conv to {width * args.stride ** dims} channels, sub-pixel upsampling to the split point's "
             f"{[width] + spatial_in}) + cnn-full's later layers, fine-tuned {args.epochs2} epochs with "
             f"distillation on cnn-full"),
            ("tail-small", tail_small, "tail-full",
             f"two 32-channel convs on the bottleneck and a linear classifier, trained {args.epochs_small} "
             f"epochs on cnn-full's soft labels")):
        zoolib.export_onnx(tail, example_b, os.path.join(folder, f"{tail_id}.onnx"), "bottleneck")
        tails.append({"id": tail_id, "file": f"{tail_id}.onnx", "method": "split", "parent": parent,
                      "description": note, "parameters": zoolib.count_params(tail),
                      "macs": zoolib.count_macs(tail, example_b)})
    comment = (f"Generated by zoo/recipes/split.py --task {args.task} (BottleFit-style split of cnn-full, seed "
               f"{args.seed}); accuracy and latency are added by the TypeScript profiler.")
    write_manifests(folder, task_manifest, head_entry, tails, shape, args.seed, comment)

    full_macs = next(m for m in task_manifest["models"] if m["id"] == "cnn-full")["macs"]
    log(f"{head_id}: head {head_entry['parameters']} params, {head_entry['macs']} MACs "
        f"({100 * head_entry['macs'] / full_macs:.1f}% of cnn-full's {full_macs}), bottleneck {shape} uint8")
    teacher_pred = batched(teacher, holdout[0]).argmax(1)
    for e, tail in zip(tails, (tail_full, tail_small)):
        agree = (batched(tail, hb[0]).argmax(1) == teacher_pred).float().mean().item()
        log(f"{e['id']}: {e['parameters']} params, {e['macs']} MACs, "
            f"{os.path.getsize(os.path.join(folder, e['file']))} bytes; premodel-split acc "
            f"{zoolib.evaluate(tail, *hb):.4f} (cnn-full {teacher_acc:.4f}), agreement with cnn-full {agree:.4f}")
    log(f"split models written to {folder} in {(time.time() - started) / 60:.1f} min")

    if args.no_test:
        return
    # For the report only: nothing above read the test split.
    tx, ty = t["test"]()
    tb = batched(head, tx)
    log(f"test split: cnn-full {zoolib.evaluate(teacher, tx, ty):.4f}, tail-full "
        f"{zoolib.evaluate(tail_full, tb, ty):.4f}, tail-small {zoolib.evaluate(tail_small, tb, ty):.4f}")


if __name__ == "__main__":
    main()
