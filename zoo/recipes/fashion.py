"""Rebuilds the `fashion` zoo from Fashion-MNIST: one seeded command, CPU only.

    /usr/bin/python3 zoo/recipes/fashion.py --data /usr/share/datasets/fashion-mnist --out zoo/fashion
    (or `npm run rebuild-zoo -- --task fashion`, which then profiles the new zoo)

Splits (docs/premodel.md): the zoo trains on the first 50,000 training images only; the last
10,000 are the premodel split and the 10,000 test images the evaluation split, which this recipe
never reads. It writes the ONNX files and `manifest.json` (architecture facts: sizes, MACs,
compression, hashes); `npm run profile -- --task fashion` then adds accuracy and latency measured
through the service's own preprocessing and onnxruntime-node.

Every model takes `image` [batch, 1, 28, 28] float32 in [0, 1] (white garment on black, as in the
data set) and returns `logits` [batch, 10]. Input normalisation is learnt by the first batch norm,
so the service's preprocessing is the same plain pixel/255 for every model.
"""
import argparse
import copy
import gzip
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import zoolib
from zoolib import log

CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
           "Bag", "Ankle boot"]
ZOO_SPLIT = 50000


def read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def find(data_dir, stem):
    for name in (stem, stem + ".gz"):
        if os.path.exists(os.path.join(data_dir, name)):
            return os.path.join(data_dir, name)
    raise SystemExit(f"missing {stem}[.gz] in {data_dir}")


def augment(x):
    """Random horizontal flip and a random shift of up to 2 pixels (zero padding)."""
    flip = torch.rand(len(x)) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    padded = F.pad(x, (2, 2, 2, 2))
    dx, dy = np.random.randint(0, 5, size=2)
    return padded[:, :, dy:dy + 28, dx:dx + 28]


def conv_bn(cin, cout, k=3):
    return nn.Sequential(nn.Conv2d(cin, cout, k, padding=k // 2), nn.BatchNorm2d(cout), nn.ReLU())


class VggNet(nn.Module):
    """conv-conv-pool-conv-conv-pool-fc-fc. `widths` are the channels of the four convs and the
    hidden fc; `lowres` first averages 2x2 pixels, so every conv runs on 14x14 or smaller."""

    def __init__(self, widths=(48, 48, 96, 96, 256), lowres=False):
        super().__init__()
        c1, c2, c3, c4, hidden = widths
        self.lowres = lowres
        self.convs = nn.ModuleList([conv_bn(1, c1), conv_bn(c1, c2), conv_bn(c2, c3), conv_bn(c3, c4)])
        side = 3 if lowres else 7
        self.fc1 = nn.Linear(c4 * side * side, hidden)
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        if self.lowres:
            x = F.avg_pool2d(x, 2)
        for i, block in enumerate(self.convs):
            x = block(x)
            if i in (1, 3):
                x = F.max_pool2d(x, 2)
        return self.fc2(self.drop(F.relu(self.fc1(x.flatten(1)))))


class FlipAverage(nn.Module):
    """Test-time augmentation: the mean of a model's logits on the image and on its mirror image.
    Twice the cost of the model for a little more accuracy: the dearest, most accurate rung."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        return (self.model(x) + self.model(x.flip(3))) / 2


class SmallCnn(nn.Module):
    def __init__(self, c1=8, c2=16, hidden=0):
        super().__init__()
        self.c1 = conv_bn(1, c1, 5)
        self.c2 = conv_bn(c1, c2, 5)
        self.hidden = nn.Sequential(nn.Linear(c2 * 49, hidden), nn.ReLU()) if hidden else nn.Identity()
        self.fc = nn.Linear(hidden or c2 * 49, 10)

    def forward(self, x):
        x = F.max_pool2d(self.c1(x), 2)
        x = F.max_pool2d(self.c2(x), 2)
        return self.fc(self.hidden(x.flatten(1)))


class Mlp(nn.Module):
    def __init__(self, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU(), nn.Linear(hidden, 10)) \
            if hidden else nn.Sequential(nn.Flatten(), nn.Linear(784, 10))

    def forward(self, x):
        return self.net(x)


def prune_vgg(full, keep):
    """Structured channel pruning (network slimming): keep the `keep` share of channels of each
    conv and of the hidden fc, ranked by |batch-norm gamma| (fc: L1 norm of its weights)."""
    widths, kept = [], []
    for block in full.convs:
        gamma = block[1].weight.detach().abs()
        n = max(1, int(round(len(gamma) * keep)))
        kept.append(torch.sort(torch.topk(gamma, n).indices).values)
        widths.append(n)
    fc_norm = full.fc1.weight.detach().abs().sum(1)
    n_hidden = int(round(len(fc_norm) * keep))
    kept_hidden = torch.sort(torch.topk(fc_norm, n_hidden).indices).values
    small = VggNet(tuple(widths) + (n_hidden,))
    prev = zoolib.copy_kept_channels(full.convs, small.convs, kept, torch.arange(1))
    c4 = full.convs[3][0].out_channels
    cols = (prev[:, None] * 49 + torch.arange(49)[None, :]).flatten()
    assert full.fc1.in_features == c4 * 49
    small.fc1.weight.data = full.fc1.weight.data[kept_hidden][:, cols].clone()
    small.fc1.bias.data = full.fc1.bias.data[kept_hidden].clone()
    small.fc2.weight.data = full.fc2.weight.data[:, kept_hidden].clone()
    small.fc2.bias.data = full.fc2.bias.data.clone()
    return small


def int8_of_vgg(model, calib, path):
    """Static int8 (QOperator) version of a VggNet: batch norm folded, every conv and the hidden
    fc (as a 7x7 conv over the last feature map) in QLinearConv, the 10-way head in float."""
    layers = []
    for i, block in enumerate(model.convs):
        w, b = zoolib.fold_bn(block[0], block[1])
        layers.append({"w": w, "b": b, "pad": 1, "pool": 2 if i in (1, 3) else 0})
    c4 = model.convs[3][0].out_channels
    fc_w = model.fc1.weight.detach().numpy().reshape(-1, c4, 7, 7)
    layers.append({"w": fc_w, "b": model.fc1.bias.detach().numpy(), "pad": 0, "pool": 0})
    acts = []
    with torch.no_grad():
        x = calib
        for i, layer in enumerate(layers):
            x = F.relu(F.conv2d(x, torch.tensor(layer["w"], dtype=torch.float32),
                                torch.tensor(layer["b"], dtype=torch.float32), padding=layer["pad"]))
            acts.append(x.numpy())
            if layer["pool"]:
                x = F.max_pool2d(x, layer["pool"])
    head = (model.fc2.weight.detach().numpy(), model.fc2.bias.detach().numpy())
    zoolib.quantize_qoperator(layers, head, [1, 28, 28], lambda i: acts[i], path)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--out", default="zoo/fashion")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--epochs", type=int, default=10, help="epochs of the full CNN")
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--full-checkpoint", default=None,
                    help="file for cnn-full's weights: saved after training, or, when it exists, loaded "
                         "instead of training (to rebuild only the derived models)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    zoolib.seed_everything(args.seed)
    started = time.time()

    images = read_idx(find(args.data, "train-images-idx3-ubyte"))
    labels = read_idx(find(args.data, "train-labels-idx1-ubyte"))
    x = torch.tensor(images[:ZOO_SPLIT], dtype=torch.float32).unsqueeze(1) / 255.0
    y = torch.tensor(labels[:ZOO_SPLIT], dtype=torch.long)
    # Sanity figures only (the profiler measures the real ones): the first 2,000 premodel images.
    check = (torch.tensor(images[ZOO_SPLIT:ZOO_SPLIT + 2000], dtype=torch.float32).unsqueeze(1) / 255.0,
             torch.tensor(labels[ZOO_SPLIT:ZOO_SPLIT + 2000], dtype=torch.long))
    os.makedirs(args.out, exist_ok=True)
    example = x[:1]
    entries = []

    def save(model_id, model, method, parent, note, path=None):
        path = path or os.path.join(args.out, f"{model_id}.onnx")
        if model is not None:
            zoolib.export_onnx(model, example, path, "image")
        entries.append({"id": model_id, "file": os.path.basename(path), "method": method,
                        "parent": parent, "description": note,
                        "parameters": zoolib.count_params(model_ref[model_id]),
                        "macs": zoolib.count_macs(model_ref[model_id], example)})
        log(f"saved {model_id}: float check acc {zoolib.evaluate(model_ref[model_id], *check):.4f}")

    model_ref = {}

    if args.full_checkpoint and os.path.exists(args.full_checkpoint):
        full = VggNet()
        full.load_state_dict(torch.load(args.full_checkpoint))
        full.eval()
        log(f"cnn-full loaded from {args.full_checkpoint}")
    else:
        full = zoolib.train(VggNet(), x, y, args.epochs, 0.08, augment, name="cnn-full")
        if args.full_checkpoint:
            torch.save(full.state_dict(), args.full_checkpoint)
    model_ref["cnn-full"] = full
    save("cnn-full", full, "none", None, "4-conv VGG-style CNN with batch norm, 48-48-96-96 channels, fc 256, dropout 0.3")

    model_ref["cnn-full-tta"] = FlipAverage(full)
    save("cnn-full-tta", model_ref["cnn-full-tta"], "test-time-augmentation", "cnn-full",
         "cnn-full averaged over the image and its mirror image (2 passes in one graph)")

    int8_path = os.path.join(args.out, "cnn-full-int8.onnx")
    int8_of_vgg(full, x[torch.randperm(len(x))[:2000]], int8_path)
    model_ref["cnn-full-int8"] = full
    save("cnn-full-int8", None, "int8-static", "cnn-full",
         "cnn-full in int8 (QLinearConv, per-channel weights, activations calibrated on 2,000 zoo-split images)",
         int8_path)

    pruned = zoolib.train(prune_vgg(full, 0.5), x, y, 4, 0.02, augment, name="cnn-pruned")
    model_ref["cnn-pruned"] = pruned
    save("cnn-pruned", pruned, "pruned", "cnn-full",
         "cnn-full with half the channels of every layer removed (|BN gamma| ranking), fine-tuned 4 epochs")

    lowres = VggNet(lowres=True)
    for src, dst in zip(full.convs, lowres.convs):
        dst.load_state_dict(src.state_dict())
    lowres = zoolib.train(lowres, x, y, 5, 0.04, augment, name="cnn-lowres")
    model_ref["cnn-lowres"] = lowres
    save("cnn-lowres", lowres, "low-resolution", "cnn-full",
         "cnn-full's layers on a 14x14 input (2x2 average in the graph), initialised from cnn-full's convs, fine-tuned 5 epochs")

    soft = zoolib.teacher_logits(full, x)
    student = zoolib.train(SmallCnn(16, 32, 64), x, y, 8, 0.05, soft_targets=soft, name="cnn-distilled")
    model_ref["cnn-distilled"] = student
    save("cnn-distilled", student, "distilled", "cnn-full",
         "student CNN 16-32 channels, fc 64, trained on cnn-full's soft labels (T=4)")

    small = zoolib.train(SmallCnn(8, 16), x, y, 6, 0.05, augment, name="cnn-small")
    model_ref["cnn-small"] = small
    save("cnn-small", small, "none", None, "independent small CNN, 8-16 channels, 5x5 kernels")

    mlp = zoolib.train(Mlp(128), x, y, 10, 0.05, name="mlp")
    model_ref["mlp"] = mlp
    save("mlp", mlp, "none", None, "multilayer perceptron 784-128-10")

    linear = zoolib.train(Mlp(0), x, y, 6, 0.05, name="linear")
    model_ref["linear"] = linear
    save("linear", linear, "none", None, "softmax regression on the 784 pixels")

    write_manifest(args.out, entries, args.seed)
    log(f"zoo rebuilt in {(time.time() - started) / 60:.1f} min")


def write_manifest(out, entries, seed):
    zoolib.write_manifest(
        out, "fashion", "image", CLASSES,
        {"zoo": "train images 0-49999", "premodel": "train images 50000-59999", "test": "the 10,000 test images"},
        "Generated by zoo/recipes/fashion.py; accuracy and latency are added by `npm run profile -- --task fashion`.",
        entries, seed,
        {"name": "image", "shape": [1, 28, 28], "dtype": "float32",
         "preprocessing": {"type": "image", "width": 28, "height": 28, "channels": 1, "fit": "contain",
                           "background": 0, "mean": [0], "std": [1]}})


if __name__ == "__main__":
    main()
