"""Rebuilds the `har` zoo (human activity recognition) from the HAPT smartphone recordings: one
seeded command, CPU only, after the TypeScript windowing has written the splits.

    npm run export-har-windows -- --data ../shared/data/hapt --out .cache/har-windows
    /usr/bin/python3 zoo/recipes/har.py --windows .cache/har-windows --out zoo/har

Splits (docs/premodel.md; by volunteer, src/pipeline/datasets/hapt.ts): the zoo trains on the
`zoo` volunteers only; the `premodel` volunteers are printed as a holdout while training (no choice
is made on them automatically) and the `test` volunteers are read only to print a final figure for
the report. The recipe writes the ONNX files and `manifest.json` (architecture facts: sizes, MACs,
compression, hashes); `npm run profile -- --task har` then adds accuracy and latency measured
through the service's own preprocessing and onnxruntime-node.

Cross-fitting (`--fold K/N`, N runs, one per fold): the same recipe on the zoo volunteers outside
one fold, so that `npm run profile -- --task har --cross-fit DIR` can measure each fold's models on
the volunteers they never saw: outcomes on people for the premodel to learn and calibrate from,
besides the premodel volunteers (docs/premodel.md). Those models are measured, never served.

Every model takes `window` [batch, 128, 6] float32: raw samples at 50 Hz, time-major, channels acc
x, y, z (g, total acceleration) then gyro x, y, z (rad/s), exactly what a client sends; and returns
`logits` [batch, 6]. All signal processing is inside the graph: a fixed low-pass FIR separates
gravity from body acceleration, the channels are normalised with constants of the zoo split, and
the cheap variants drop the gyroscope or resample to 25 Hz there too.
"""
import argparse
import json
import math
import os
import time

import numpy as np
import onnx
import torch
import torch.nn as nn
import torch.nn.functional as F
from onnx import compose

import zoolib
from zoolib import log

CLASSES = ["walking", "upstairs", "downstairs", "sitting", "standing", "laying"]
CHANNELS = ["acc_x", "acc_y", "acc_z", "gyro_x", "gyro_y", "gyro_z"]
LENGTH, RATE = 128, 50
FEATURES = ["body", "gravity", "gyro"]  # 3 channels each, in this order


def load_split(folder, name):
    meta_path = os.path.join(folder, f"{name}.json")
    if not os.path.exists(meta_path):
        raise SystemExit(f"missing {meta_path}: run `npx tsx scripts/export-har-windows.ts --out {folder}` first")
    with open(meta_path) as f:
        meta = json.load(f)
    x = np.fromfile(os.path.join(folder, f"{name}.f32"), dtype="<f4").reshape(meta["shape"])
    return torch.tensor(x), torch.tensor(meta["labels"], dtype=torch.long), meta


def lowpass_taps(n, rate, cutoff=0.3):
    """Hamming-windowed sinc low-pass, unit DC gain: the gravity estimate of the acceleration."""
    t = np.arange(n) - (n - 1) / 2
    h = np.sinc(2 * cutoff / rate * t) * np.hamming(n)
    return h / h.sum()


class Pre(nn.Module):
    """Signal processing in the graph: optional resampling (every `step`-th sample), gravity =
    low-pass FIR of the acceleration (edge padded, ~1 s of taps), body = acceleration - gravity,
    feature selection and normalisation with constants of the zoo split. Output [B, C, T]."""

    def __init__(self, mean, std, features=FEATURES, step=1):
        super().__init__()
        self.step = step
        rate = RATE // step
        taps = 49 if step == 1 else 25
        self.pad = taps // 2
        self.lp = nn.Conv1d(3, 3, taps, groups=3, bias=False)
        self.lp.weight.data[:] = torch.tensor(lowpass_taps(taps, rate), dtype=torch.float32)
        self.lp.weight.requires_grad_(False)
        self.features = list(features)
        idx = [FEATURES.index(f) * 3 + k for f in self.features for k in range(3)]
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32)[idx].view(1, -1, 1))
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32)[idx].view(1, -1, 1))

    @property
    def channels(self):
        return 3 * len(self.features)

    def forward(self, x):
        if self.step > 1:
            x = x[:, ::self.step]
        x = x.transpose(1, 2)
        acc, gyro = x[:, :3], x[:, 3:]
        gravity = self.lp(F.pad(acc, (self.pad, self.pad), mode="replicate"))
        parts = {"body": acc - gravity, "gravity": gravity, "gyro": gyro}
        f = torch.cat([parts[k] for k in self.features], dim=1)
        return (f - self.mean) / self.std


def feature_stats(x):
    """Per-channel mean and std of the 9 filtered features over the zoo split."""
    pre = Pre(np.zeros(9), np.ones(9))
    with torch.no_grad():
        f = torch.cat([pre(x[i:i + 1000]) for i in range(0, len(x), 1000)])
    return f.mean(dim=(0, 2)).numpy(), f.std(dim=(0, 2)).numpy()


def conv_bn(cin, cout, k):
    return nn.Sequential(nn.Conv1d(cin, cout, k, padding=k // 2), nn.BatchNorm1d(cout), nn.ReLU())


class HarCnn(nn.Module):
    """Pre -> conv-conv-pool-conv-conv-pool-conv -> global average -> dropout -> fc."""

    KERNELS = (7, 5, 5, 5, 3)
    POOLS = (0, 2, 0, 2, 0)

    def __init__(self, pre, widths=(96, 96, 192, 192, 192), dropout=0.3):
        super().__init__()
        self.pre = pre
        self.widths = tuple(widths)
        cin = pre.channels
        blocks = []
        for w, k in zip(widths, self.KERNELS):
            blocks.append(conv_bn(cin, w, k))
            cin = w
        self.convs = nn.ModuleList(blocks)
        self.drop = nn.Dropout(dropout)
        self.fc = nn.Linear(cin, len(CLASSES))

    def trunk(self, f):
        for block, pool in zip(self.convs, self.POOLS):
            f = block(f)
            if pool:
                f = F.max_pool1d(f, pool)
        return f

    def forward(self, x):
        return self.fc(self.drop(self.trunk(self.pre(x)).mean(2)))


class StatsMlp(nn.Module):
    """Mean, standard deviation, minimum and maximum of each raw channel over the window (24
    numbers; the mean of the acceleration is the gravity direction, its spread the body motion),
    standardised with constants of the zoo split, then a one-hidden-layer perceptron: the
    cheapest model of the zoo, no filter."""

    def __init__(self, x, hidden=32):
        super().__init__()
        self.register_buffer("mean", torch.zeros(24))
        self.register_buffer("std", torch.ones(24))
        with torch.no_grad():
            f = self.stats(x)
        self.mean.copy_(f.mean(0))
        self.std.copy_(f.std(0) + 1e-6)
        self.net = nn.Sequential(nn.Linear(24, hidden), nn.ReLU(), nn.Linear(hidden, len(CLASSES)))

    @staticmethod
    def stats(x):
        return window_stats(x, 1)

    def forward(self, x):
        return self.net((self.stats(x) - self.mean) / self.std)


def window_stats(x, dim):
    """Mean, standard deviation, maximum and minimum of each channel over the window's samples (axis `dim`)."""
    m = x.mean(dim)
    s = torch.sqrt(((x - m.unsqueeze(dim)) ** 2).mean(dim) + 1e-6)
    return torch.cat([m, s, x.amax(dim), x.amin(dim)], 1)


def random_rotations(n, degrees):
    """`n` random rotation matrices [n, 3, 3], up to +-`degrees` about each axis."""
    a = (torch.rand(n, 3) * 2 - 1) * math.radians(degrees)
    c, s = a.cos(), a.sin()
    o, z = torch.ones(n), torch.zeros(n)
    rx = torch.stack([o, z, z, z, c[:, 0], -s[:, 0], z, s[:, 0], c[:, 0]], 1).view(n, 3, 3)
    ry = torch.stack([c[:, 1], z, s[:, 1], z, o, z, -s[:, 1], z, c[:, 1]], 1).view(n, 3, 3)
    rz = torch.stack([c[:, 2], -s[:, 2], z, s[:, 2], c[:, 2], z, z, z, o], 1).view(n, 3, 3)
    return rz @ ry @ rx


def augment(x, degrees=15.0):
    """Raw-unit augmentation: a random rotation of the phone of up to +-`degrees` about each axis
    (the same rotation for the accelerometer and the gyroscope: placement differs between
    volunteers), a per-window, per-sensor gain of +-10% and a little white noise."""
    n = len(x)
    rt = random_rotations(n, degrees).transpose(1, 2)
    gain = (1 + 0.1 * (2 * torch.rand(n, 1, 2) - 1)).repeat_interleave(3, dim=2)
    x = torch.cat([x[:, :, :3] @ rt, x[:, :, 3:] @ rt], 2) * gain
    return x + 0.01 * torch.randn_like(x)


def prune_cnn(full, keep):
    """Structured channel pruning (network slimming): keep the `keep` share of the channels of
    every conv, ranked by |batch-norm gamma|; the copied weights start the fine-tuning."""
    kept = []
    for block in full.convs:
        gamma = block[1].weight.detach().abs()
        n = max(1, int(round(len(gamma) * keep)))
        kept.append(torch.sort(torch.topk(gamma, n).indices).values)
    small = HarCnn(full.pre, [len(k) for k in kept])
    prev = zoolib.copy_kept_channels(full.convs, small.convs, kept, torch.arange(full.pre.channels))
    small.fc.weight.data = full.fc.weight.data[:, prev].clone()
    small.fc.bias.data = full.fc.bias.data.clone()
    return small


def init_from(dst, src, in_channels):
    """Copies src's convs and fc into dst (same widths); the first conv keeps only the input
    channels `in_channels` of src's feature channels."""
    for i, (s, d) in enumerate(zip(src.convs, dst.convs)):
        state = {k: v.clone() for k, v in s.state_dict().items()}
        if i == 0:
            state["0.weight"] = state["0.weight"][:, in_channels]
        d.load_state_dict(state)
    dst.fc.load_state_dict(src.fc.state_dict())
    return dst


class FloatFront(nn.Module):
    """The part of an int8 model that stays float: Pre and the first conv (+BN+ReLU)."""

    def __init__(self, model):
        super().__init__()
        self.pre, self.first = model.pre, model.convs[0]

    def forward(self, x):
        return self.first(self.pre(x))


def int8_of_cnn(model, calib, path, example):
    """Static int8 (QOperator) version of a HarCnn: the signal processing and the first conv (9
    input channels, about 3% of the MACs) stay float; every later conv is a QLinearConv with per-channel
    int8 weights, BN folded, activations calibrated on zoo-split windows; global average + fc is
    one float Gemm over the flattened last feature map (weights repeated / T)."""
    front = FloatFront(model).eval()
    front_path = path + ".front.onnx"
    torch.onnx.export(front, example, front_path, input_names=["window"], output_names=["features"],
                      dynamic_axes={"window": {0: "batch"}, "features": {0: "batch"}},
                      opset_version=13, do_constant_folding=True)
    layers = []
    for i, block in enumerate(model.convs):
        if i == 0:
            continue
        w, b = zoolib.fold_bn(block[0], block[1])
        layers.append({"w": w, "b": b, "pad": block[0].kernel_size[0] // 2, "pool": HarCnn.POOLS[i]})
    acts = []
    with torch.no_grad():
        f0 = front(calib)
        f = f0
        for i, block in enumerate(model.convs):
            if i == 0:
                continue
            f = block(f)
            acts.append(f.numpy())
            if HarCnn.POOLS[i]:
                f = F.max_pool1d(f, HarCnn.POOLS[i])
    steps = f.shape[2]
    w_fc = model.fc.weight.detach().numpy()
    head_w = np.repeat(w_fc[:, :, None] / steps, steps, axis=2).reshape(len(CLASSES), -1)
    head = (head_w, model.fc.bias.detach().numpy())
    in_scale = max(float(np.percentile(f0.numpy(), 99.99)), 1e-6) / 255.0
    q_path = path + ".q.onnx"
    zoolib.quantize_qoperator(layers, head, list(f0.shape[1:]), lambda i: acts[i], q_path,
                              input_name="features", input_scale=in_scale)
    front_m = onnx.load(front_path)
    q_m = onnx.load(q_path)
    q_m.ir_version = front_m.ir_version
    merged = compose.merge_models(front_m, q_m, io_map=[("features", "features")], prefix2="q_")
    for node in merged.graph.node:  # the prefix renamed the output too: back to `logits`
        node.output[:] = ["logits" if o == "q_logits" else o for o in node.output]
    for out in merged.graph.output:
        if out.name == "q_logits":
            out.name = "logits"
    onnx.checker.check_model(merged)
    onnx.save(merged, path)
    os.remove(front_path)
    os.remove(q_path)


def onnx_accuracy(path, x, y):
    """Accuracy of an ONNX file through onnxruntime (Python) when it is installed, else None."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    out = np.concatenate([sess.run(None, {"window": x[i:i + 500].numpy()})[0] for i in range(0, len(x), 500)])
    return float((out.argmax(1) == y.numpy()).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--windows", default=".cache/har-windows", help="output of scripts/export-har-windows.ts")
    ap.add_argument("--out", default="zoo/har")
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--epochs", type=int, default=30, help="epochs of the full CNN")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--full-checkpoint", default=".cache/har-cnn-full.pt",
                    help="where cnn-full's weights are kept; an existing file skips its training")
    ap.add_argument("--fold", type=fold_of, metavar="K/N",
                    help="cross-fitting: train on the zoo volunteers outside fold K of N (every N-th by id, "
                         "from the K-th) and write the held-out ones to <out>/held-out.json; "
                         "no checkpoint is read or written")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    zoolib.seed_everything(args.seed)
    started = time.time()

    x, y, meta = load_split(args.windows, "zoo")
    if args.fold is not None:
        x, y, meta = cross_fit_part(x, y, meta, *args.fold, args.out)
        args.full_checkpoint = None
    px, py, pmeta = load_split(args.windows, "premodel")
    holdout = (px, py)
    log(f"zoo split {len(x)} windows ({len(set(meta['users']))} volunteers), premodel split {len(px)}")
    mean, std = feature_stats(x)
    log("feature mean " + " ".join(f"{v:.3f}" for v in mean) + " / std " + " ".join(f"{v:.3f}" for v in std))
    os.makedirs(args.out, exist_ok=True)
    example = x[:1]
    entries, model_ref = [], {}

    def save(model_id, model, method, parent, note, path=None):
        path = path or os.path.join(args.out, f"{model_id}.onnx")
        if model is not None:
            zoolib.export_onnx(model, example, path, "window")
        ref = model_ref[model_id]
        entries.append({"id": model_id, "file": os.path.basename(path), "method": method,
                        "parent": parent, "description": note,
                        "parameters": zoolib.count_params(ref), "macs": zoolib.count_macs(ref, example)})
        log(f"saved {model_id}: premodel-split float acc {zoolib.evaluate(ref, *holdout):.4f}")

    def save_int8(parent, calib):
        """`<parent>-int8`: the saved float model `parent` in static int8, calibrated on `calib`."""
        model_id = f"{parent}-int8"
        path = os.path.join(args.out, f"{model_id}.onnx")
        int8_of_cnn(model_ref[parent], calib, path, example)
        model_ref[model_id] = model_ref[parent]
        save(model_id, None, "int8-static", parent,
             f"{parent} in int8 (QLinearConv, per-channel weights, activations calibrated on {len(calib):,} "
             "zoo-split windows); signal processing and first conv in float", path)

    def pre(features=FEATURES, step=1):
        return Pre(mean, std, features, step)

    if args.full_checkpoint and os.path.exists(args.full_checkpoint):
        full = HarCnn(pre())
        full.load_state_dict(torch.load(args.full_checkpoint))
        full.eval()
        log(f"cnn-full loaded from {args.full_checkpoint}")
    else:
        full = zoolib.train(HarCnn(pre()), x, y, args.epochs, 0.05, augment, name="cnn-full", eval_set=holdout)
        if args.full_checkpoint:
            os.makedirs(os.path.dirname(args.full_checkpoint) or ".", exist_ok=True)
            torch.save(full.state_dict(), args.full_checkpoint)
    model_ref["cnn-full"] = full
    save("cnn-full", full, "none", None,
         "1D CNN on body acc + gravity (49-tap low-pass FIR in the graph) + gyro, 5 convs 96-96-192-192-192 "
         "with batch norm, global average, dropout 0.3")

    save_int8("cnn-full", x[torch.randperm(len(x))[:1000]])

    pruned = zoolib.train(prune_cnn(full, 0.5), x, y, 8, 0.02, augment, name="cnn-pruned", eval_set=holdout)
    model_ref["cnn-pruned"] = pruned
    save("cnn-pruned", pruned, "pruned", "cnn-full",
         "cnn-full with half the channels of every conv removed (|BN gamma| ranking), fine-tuned 8 epochs")

    # Calibration windows from a generator of its own, so that the models after this one draw
    # what they drew before it was added.
    save_int8("cnn-pruned", x[torch.randperm(len(x), generator=torch.Generator().manual_seed(args.seed))[:1000]])

    half = HarCnn(pre(step=2))
    init_from(half, full, list(range(9)))
    half = zoolib.train(half, x, y, 10, 0.02, augment, name="cnn-25hz", eval_set=holdout)
    model_ref["cnn-25hz"] = half
    save("cnn-25hz", half, "shorter-context", "cnn-full",
         "cnn-full's layers on the window resampled to 25 Hz in the graph (64 samples, 25-tap low-pass), "
         "initialised from cnn-full, fine-tuned 10 epochs")

    soft = zoolib.teacher_logits(full, x)
    student = zoolib.train(HarCnn(pre(), (16, 16, 32, 32, 32), dropout=0.1), x, y, 30, 0.05,
                           soft_targets=soft, name="cnn-distilled", eval_set=holdout)
    model_ref["cnn-distilled"] = student
    save("cnn-distilled", student, "distilled", "cnn-full",
         "student CNN 16-16-32-32-32 channels, trained on cnn-full's soft labels (T=4)")

    acc_only = zoolib.train(HarCnn(pre(("body", "gravity"), step=2), (16, 16, 32, 32, 32), dropout=0.1),
                            x, y, 30, 0.05, soft_targets=soft, name="cnn-acc-25hz", eval_set=holdout)
    model_ref["cnn-acc-25hz"] = acc_only
    save("cnn-acc-25hz", acc_only, "fewer-channels", "cnn-full",
         "accelerometer only (body + gravity, no gyroscope) at 25 Hz, CNN 16-16-32-32-32, "
         "trained on cnn-full's soft labels (T=4)")

    stats = zoolib.train(StatsMlp(x), x, y, 40, 0.05, augment, name="stats-mlp", eval_set=holdout)
    model_ref["stats-mlp"] = stats
    save("stats-mlp", stats, "none", None,
         "mean, std, min and max of the 6 raw channels over the window, perceptron 24-32-6")

    write_manifest(args.out, entries, args.seed, {
        "zoo": meta["users"], "premodel": pmeta["users"],
        "test": json.load(open(os.path.join(args.windows, "test.json")))["users"]})
    for e in entries:
        path = os.path.join(args.out, e["file"])
        log(f"{e['id']}: {e['parameters']} params, {e['macs']} MACs, {os.path.getsize(path)} bytes")
    log(f"zoo rebuilt in {(time.time() - started) / 60:.1f} min")

    # For the report only: nothing above read the test volunteers.
    tx, ty, _ = load_split(args.windows, "test")
    for e in entries:
        acc = zoolib.evaluate(model_ref[e["id"]], tx, ty)
        onnx_acc = onnx_accuracy(os.path.join(args.out, e["file"]), tx, ty)
        log(f"test volunteers: {e['id']} torch float acc {acc:.4f}"
            + ("" if onnx_acc is None else f", onnx acc {onnx_acc:.4f}"))


def fold_of(text):
    """`K/N` with 0 <= K < N, N >= 2."""
    try:
        k, n = (int(v) for v in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--fold wants K/N, got {text!r}")
    if not 0 <= k < n or n < 2:
        raise argparse.ArgumentTypeError(f"--fold wants 0 <= K < N and N >= 2, got {text!r}")
    return k, n


def cross_fit_part(x, y, meta, k, n, out):
    """The zoo windows of the volunteers outside fold k of n; the fold's volunteers go to
    <out>/held-out.json, for `npm run profile -- --cross-fit` to measure these models on them."""
    volunteers = sorted(set(meta["users"]))
    held_out = volunteers[k::n]
    keep = [i for i, u in enumerate(meta["users"]) if u not in held_out]
    os.makedirs(out, exist_ok=True)
    zoolib.write_json(os.path.join(out, "held-out.json"), {"fold": k, "folds": n, "volunteers": held_out})
    log(f"fold {k}/{n}: training on {len(volunteers) - len(held_out)} zoo volunteers, holding out {held_out}")
    index = torch.tensor(keep)
    return x[index], y[index], {**meta, "users": [meta["users"][i] for i in keep]}


def write_manifest(out, entries, seed, users):
    """`users`: the volunteer ids of each split's windows (only ids, the test windows are not read)."""
    def who(split):
        return "HAPT volunteers " + ", ".join(str(u) for u in sorted(set(users[split])))

    zoolib.write_manifest(
        out, "har", "window", CLASSES,
        {"zoo": who("zoo") + " (128-sample windows, 50% overlap, inside segments of activities 1-6)",
         "premodel": who("premodel"),
         "test": who("test") + " (the UCI HAR test volunteers present in the data)"},
        "Generated by zoo/recipes/har.py from the windows of scripts/export-har-windows.ts; "
        "accuracy and latency are added by `npm run profile -- --task har`.",
        entries, seed,
        {"name": "window", "shape": [LENGTH, len(CHANNELS)], "dtype": "float32",
         "preprocessing": {"type": "window", "length": LENGTH, "channels": len(CHANNELS),
                           "channelNames": CHANNELS, "sampleRateHz": RATE}})


if __name__ == "__main__":
    main()
