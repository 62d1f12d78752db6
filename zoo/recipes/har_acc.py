"""Builds the `har-acc` zoo, the worked example of bringing your own zoo: activity recognition for a
wearable with an accelerometer only (no gyroscope), sampled at 25 Hz, 2.56 s windows (64 samples x
3 channels), the models taking them channels first ([batch, 3, 64], as a 1-D convolution does).
It writes what a team would bring to `npm run add-task`, not a manifest:

    npm run export-har-windows -- --data ../shared/data/hapt --out .cache/har-windows
    /usr/bin/python3 zoo/recipes/har_acc.py --windows .cache/har-windows --out .cache/har-acc
    npm run add-task -- --task har-acc --models .cache/har-acc/models --data .cache/har-acc/data

`<out>/models/`: cnn.onnx (the full network), cnn-int8.onnx (static int8), cnn-pruned.onnx (half
its channels), cnn-distilled.onnx (a student a sixteenth of its width), stats-mlp.onnx (window
statistics and a perceptron; it ends in a Softmax: probabilities), labels.txt and zoo.json (each
model's compression and parent, MACs, the sample rate and channel names). `<out>/data/`:
premodel.jsonl and test.jsonl, the HAPT premodel and test volunteers' windows as a 25 Hz
accelerometer gives them, one JSON line each with the volunteer as its group.

The windows come from the service's own windowing (scripts/export-har-windows.ts: 128 samples at
50 Hz, acc then gyro); every other sample of the accelerometer's three channels is kept (25 Hz,
what such a sensor samples). Training uses the zoo volunteers only; the premodel and test
volunteers are written out untouched and only printed as a holdout figure.
"""
import argparse
import json
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

import zoolib
from har import CLASSES, HarCnn, int8_of_cnn, load_split, lowpass_taps, prune_cnn, random_rotations, window_stats
from zoolib import log

CHANNELS = ["acc_x", "acc_y", "acc_z"]
RATE = 25
STEP = 2  # 50 Hz recordings -> 25 Hz


def accelerometer(x):
    """[n, 128, 6] time-major windows at 50 Hz -> [n, 3, 64]: the accelerometer at 25 Hz, channels first."""
    return x[:, ::STEP, :3].transpose(1, 2).contiguous()


class AccPre(nn.Module):
    """In the graph: gravity = 25-tap low-pass FIR of the acceleration (edge padded), body = the
    rest; both standardised with constants of the zoo split. [B, 3, T] -> [B, 6, T]."""

    channels = 6

    def __init__(self, mean, std):
        super().__init__()
        taps = 25
        self.pad = taps // 2
        self.lp = nn.Conv1d(3, 3, taps, groups=3, bias=False)
        self.lp.weight.data[:] = torch.tensor(lowpass_taps(taps, RATE), dtype=torch.float32)
        self.lp.weight.requires_grad_(False)
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, -1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, -1, 1))

    def forward(self, x):
        gravity = self.lp(F.pad(x, (self.pad, self.pad), mode="replicate"))
        return (torch.cat([x - gravity, gravity], dim=1) - self.mean) / self.std


class StatsMlp(nn.Module):
    """Mean, standard deviation, minimum and maximum of each channel over the window, standardised,
    then a perceptron; its graph ends in a Softmax, so that it gives probabilities."""

    def __init__(self, x, hidden=32):
        super().__init__()
        f = self.stats(x)
        self.register_buffer("mean", f.mean(0))
        self.register_buffer("std", f.std(0) + 1e-6)
        self.net = nn.Sequential(nn.Linear(12, hidden), nn.ReLU(), nn.Linear(hidden, len(CLASSES)))
        self.probabilities = False

    @staticmethod
    def stats(x):
        return window_stats(x, 2)

    def forward(self, x):
        logits = self.net((self.stats(x) - self.mean) / self.std)
        return F.softmax(logits, dim=1) if self.probabilities else logits


def augment(x, degrees=15.0):
    """A random rotation of the device of up to +-`degrees` about each axis, a gain of +-10% and a
    little noise, on [n, 3, T] accelerometer windows."""
    x = random_rotations(len(x), degrees) @ x
    return x * (1 + 0.1 * (2 * torch.rand(len(x), 1, 1) - 1)) + 0.01 * torch.randn_like(x)


def feature_stats(x):
    pre = AccPre(np.zeros(6), np.ones(6))
    with torch.no_grad():
        f = pre(x)
    return f.mean(dim=(0, 2)).numpy(), f.std(dim=(0, 2)).numpy()


def write_windows(path, x, y, users):
    """One JSON line per window, samples by channels as a client sends it, the volunteer as its group."""
    samples = x.transpose(1, 2).numpy()
    with open(path, "w") as f:
        for window, label, user in zip(samples, y.tolist(), users):
            rows = [[round(float(v), 6) for v in sample] for sample in window]
            f.write(json.dumps({"window": rows, "label": CLASSES[label], "group": f"volunteer-{user}"}) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--windows", default=".cache/har-windows", help="output of scripts/export-har-windows.ts")
    ap.add_argument("--out", default=".cache/har-acc", help="writes <out>/models and <out>/data")
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--epochs", type=int, default=30, help="epochs of the full CNN")
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    zoolib.seed_everything(args.seed)
    started = time.time()

    x6, y, meta = load_split(args.windows, "zoo")
    px6, py, pmeta = load_split(args.windows, "premodel")
    tx6, ty, tmeta = load_split(args.windows, "test")
    x, px, tx = accelerometer(x6), accelerometer(px6), accelerometer(tx6)
    holdout = (px, py)
    log(f"zoo split {len(x)} windows of {tuple(x.shape[1:])}, premodel split {len(px)}, test split {len(tx)}")
    models_dir = os.path.join(args.out, "models")
    data_dir = os.path.join(args.out, "data")
    os.makedirs(models_dir, exist_ok=True)
    os.makedirs(data_dir, exist_ok=True)
    mean, std = feature_stats(x)
    example = x[:1]
    spec = {}

    def save(model_id, model, method, parent, note, exported=False, output_name="logits"):
        path = os.path.join(models_dir, f"{model_id}.onnx")
        if not exported:
            zoolib.export_onnx(model, example, path, "accelerometer", output_name)
        spec[model_id] = {"description": note, "compression": {"method": method, "parent": parent},
                          "macs": zoolib.count_macs(model, example)}
        log(f"saved {model_id}: {zoolib.count_params(model)} parameters, premodel-split acc {zoolib.evaluate(model, *holdout):.4f}")

    full = zoolib.train(HarCnn(AccPre(mean, std), (64, 64, 128, 128, 128)), x, y, args.epochs, 0.05, augment,
                        name="cnn", eval_set=holdout)
    save("cnn", full, "none", None,
         "1D CNN on body acc + gravity (25-tap low-pass in the graph), 5 convs 64-64-128-128-128 with batch norm, global average")

    int8_of_cnn(full, x[torch.randperm(len(x))[:1000]], os.path.join(models_dir, "cnn-int8.onnx"), example)
    save("cnn-int8", full, "int8-static", "cnn",
         "cnn in int8 (QLinearConv, per-channel weights, activations calibrated on 1,000 zoo-split windows); filter and first conv in float",
         exported=True)

    pruned = zoolib.train(prune_cnn(full, 0.5), x, y, 8, 0.02, augment, name="cnn-pruned", eval_set=holdout)
    save("cnn-pruned", pruned, "pruned", "cnn", "cnn with half the channels of every conv removed (|BN gamma| ranking), fine-tuned 8 epochs")

    soft = zoolib.teacher_logits(full, x)
    student = zoolib.train(HarCnn(AccPre(mean, std), (8, 8, 16, 16, 16), dropout=0.1), x, y, 30, 0.05,
                           soft_targets=soft, name="cnn-distilled", eval_set=holdout)
    save("cnn-distilled", student, "distilled", "cnn", "student CNN 8-8-16-16-16 channels, trained on cnn's soft labels (T=4)")

    stats = zoolib.train(StatsMlp(x), x, y, 40, 0.05, augment, name="stats-mlp", eval_set=holdout)
    stats.probabilities = True
    save("stats-mlp", stats, "none", None, "mean, std, min and max of the 3 channels over the window, perceptron 12-32-6, softmax",
         output_name="probabilities")

    with open(os.path.join(models_dir, "labels.txt"), "w") as f:
        f.write("\n".join(CLASSES) + "\n")

    def who(m):
        return "HAPT volunteers " + ", ".join(str(u) for u in sorted(set(m["users"])))

    zoolib.write_json(os.path.join(models_dir, "zoo.json"), {
        "$comment": "Written by zoo/recipes/har_acc.py: what the ONNX graphs cannot say.",
        "splits": {"zoo": who(meta) + " (accelerometer at 25 Hz, 64-sample windows)",
                   "premodel": who(pmeta), "test": who(tmeta)},
        "preprocessing": {"sampleRateHz": RATE, "channelNames": CHANNELS},
        "models": spec,
    })
    write_windows(os.path.join(data_dir, "premodel.jsonl"), px, py, pmeta["users"])
    write_windows(os.path.join(data_dir, "test.jsonl"), tx, ty, tmeta["users"])
    log(f"wrote {models_dir} and {data_dir} in {(time.time() - started) / 60:.1f} min")


if __name__ == "__main__":
    main()
