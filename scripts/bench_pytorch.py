#!/usr/bin/env python3
"""PyTorch (eager) training-speed benchmark of the codelab's experiment 9
model (conv + batch norm), for comparison with ringtrain's bench.

Prints one line per thread count tried (CPU) or one line (GPU: the dataset on
the GPU, batches gathered there), then the best as the last line:
    bench img_per_s=<x> ms_per_step=<y>
PyTorch is an optional dependency of this script only.
Usage: scripts/bench_pytorch.py [--steps 200] [--warmup 20] [--batch-size 64]
                                [--threads 1,2] [--data DIR] [--device cpu|cuda]
"""
import argparse
import gzip
import os
import time

import torch
import torch.nn as nn


def batch_norm(n, conv):
    """Keras BatchNormalization(center=True, scale=False, momentum=0.99, epsilon=1e-3): PyTorch's, its scale
    held at 1."""
    bn = (nn.BatchNorm2d if conv else nn.BatchNorm1d)(n, eps=1e-3, momentum=0.01)
    bn.weight.requires_grad_(False)
    return bn


def make_model():
    # Stride-2 6x6 convs: TF 'same' pads total 4 (28->14, 14->7), split 2/2,
    # so symmetric padding=2 is exact.
    return nn.Sequential(
        nn.Conv2d(1, 12, 3, padding=1, bias=False), batch_norm(12, True), nn.ReLU(),
        nn.Conv2d(12, 24, 6, stride=2, padding=2, bias=False), batch_norm(24, True), nn.ReLU(),
        nn.Conv2d(24, 32, 6, stride=2, padding=2, bias=False), batch_norm(32, True), nn.ReLU(),
        nn.Flatten(),
        nn.Linear(7 * 7 * 32, 200, bias=False), batch_norm(200, False), nn.ReLU(),
        nn.Dropout(0.3),
        nn.Linear(200, 10),
    )


def read_idx(path):
    """Reads an IDX file (optionally .gz) into a uint8 tensor."""
    for p in (path, path + ".gz"):
        if os.path.exists(p):
            with (gzip.open(p, "rb") if p.endswith(".gz") else open(p, "rb")) as f:
                raw = f.read()
            ndim = raw[3]
            dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
            data = torch.frombuffer(bytearray(raw[4 + 4 * ndim:]), dtype=torch.uint8)
            return data.reshape(dims)
    return None


def load_data(data_dir):
    if data_dir:
        images = read_idx(os.path.join(data_dir, "train-images-idx3-ubyte"))
        labels = read_idx(os.path.join(data_dir, "train-labels-idx1-ubyte"))
        if images is not None and labels is not None:
            print(f"data: MNIST from {data_dir} ({images.shape[0]} images)")
            return images.reshape(-1, 1, 28, 28).contiguous(), labels.long()
    g = torch.Generator().manual_seed(0)
    images = torch.randint(0, 256, (60000, 1, 28, 28), dtype=torch.uint8, generator=g)
    labels = torch.randint(0, 10, (60000,), generator=g)
    print("data: synthetic random images and labels (60000)")
    return images, labels


def bench(threads, images, labels, args):
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    device = torch.device(args.device)
    images, labels = images.to(device), labels.to(device)
    model = make_model().to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=0.01, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    n = images.shape[0]

    def step():
        idx = torch.randint(0, n, (args.batch_size,), device=device)
        x = images[idx].float() / 256.0
        y = labels[idx]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def finish():
        if device.type == "cuda":
            torch.cuda.synchronize()

    for _ in range(args.warmup):
        step()
    finish()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    finish()
    dt = time.perf_counter() - t0
    ms = dt * 1000.0 / args.steps
    ips = args.steps * args.batch_size / dt
    print(f"threads={torch.get_num_threads()} img_per_s={ips:.1f} "
          f"ms_per_step={ms:.3f} final_loss={loss.item():.4f}", flush=True)
    return ips, ms


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--data", default=None, help="dir with MNIST IDX files (optional)")
    ap.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    args = ap.parse_args()
    # FP32 arithmetic, as ringtrain's (PyTorch would otherwise let cuDNN convolve in TF32).
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False

    where = torch.cuda.get_device_name() if args.device == "cuda" else "CPU"
    print(f"torch {torch.__version__} (eager, {where}), batch {args.batch_size}, "
          f"{args.steps} steps after {args.warmup} warm-up")
    images, labels = load_data(args.data)
    threads = [1] if args.device == "cuda" else [int(t) for t in args.threads.split(",") if t]
    results = [bench(t, images, labels, args) for t in threads]
    ips, ms = max(results)
    print(f"bench img_per_s={ips:.1f} ms_per_step={ms:.3f}")


if __name__ == "__main__":
    main()
