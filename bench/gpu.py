"""Benchmark: the gpu_training reference against a plain, well-written PyTorch loop (DataLoader
over a TensorDataset, the usual zero_grad/backward/step, .item() per batch) for the same model,
data, optimizer and hyperparameters; on the CPU, and on CUDA when there is one. Same process,
interleaved seed by seed after a warm-up; the median of REPEATS runs of EPOCHS epochs each.

Two numbers per implementation: wall time per epoch (what the loop itself costs) and time to
98% test accuracy (when its shuffles first get there; this varies with the batches drawn).

Run:  python -c "from bench.gpu import main; main()"
"""

import statistics
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from solution import gpu_training as ref

TARGET = 0.98
EPOCHS = 12
REPEATS = 5


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def kit_run(device, seed):
    """(seconds since start, test accuracy) after each epoch of the reference's train()."""
    torch.manual_seed(seed)
    model = ref.DigitsCNN()
    history = ref.train(
        model, ref.load_digits_data(device), EPOCHS, ref.DEFAULT_BATCH_SIZE, ref.DEFAULT_LR, momentum=0.9, seed=seed
    )
    return list(zip(history["seconds"], history["test_acc"], strict=False))


def plain_run(device, seed):
    """The textbook loop: a DataLoader on the host, per-batch .item(), evaluation each epoch."""
    torch.manual_seed(seed)
    model = ref.DigitsCNN().to(device)
    X_train, y_train, X_test, y_test = ref.load_digits_data(torch.device("cpu"))
    loader = DataLoader(
        TensorDataset(X_train, y_train),
        batch_size=ref.DEFAULT_BATCH_SIZE,
        shuffle=True,
        generator=torch.Generator().manual_seed(seed),
    )
    optimizer = torch.optim.SGD(model.parameters(), lr=ref.DEFAULT_LR, momentum=0.9)
    record = []
    _sync(device)
    start = time.perf_counter()
    for _ in range(EPOCHS):
        model.train()
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            optimizer.zero_grad()
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()
            loss.item()
        model.eval()
        with torch.no_grad():
            acc = (model(X_test.to(device)).argmax(1) == y_test.to(device)).float().mean().item()
        _sync(device)
        record.append((time.perf_counter() - start, acc))
    return record


def _summary(runs):
    per_epoch = statistics.median(r[-1][0] / EPOCHS for r in runs)
    reached = [t for t in (next((t for t, acc in r if acc >= TARGET), None) for r in runs) if t is not None]
    return per_epoch, (statistics.median(reached) if reached else None), len(reached)


def _measure(device):
    """Kit and plain runs interleaved seed by seed, so drift in machine load hits both alike."""
    kit, plain = [], []
    for seed in range(REPEATS):
        kit.append(kit_run(device, seed))
        plain.append(plain_run(device, seed))
    return {"kit reference": _summary(kit), "plain PyTorch loop": _summary(plain)}


def main():
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(
        f"DigitsCNN on the digits, batch {ref.DEFAULT_BATCH_SIZE}, lr {ref.DEFAULT_LR}, momentum 0.9, "
        f"{EPOCHS} epochs x {REPEATS} seeds; torch {torch.__version__}, {torch.get_num_threads()} CPU threads"
    )
    for device in devices:
        name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
        kit_run(device, 0)  # warm-up: kernels, allocator, the data set's file cache
        rows = _measure(device)
        print(f"  {name}:")
        for label, (per_epoch, to_target, n) in rows.items():
            reach = f"{to_target:.2f} s (median of the {n} seeds that got there)" if to_target else "not reached"
            print(f"    {label:20s} {per_epoch * 1000:7.1f} ms/epoch   to {TARGET:.0%}: {reach}")
        (kit_epoch, kit_reach, _), (plain_epoch, plain_reach, _) = rows.values()
        ratio = f", time to {TARGET:.0%} {kit_reach / plain_reach:.2f}x" if kit_reach and plain_reach else ""
        print(
            f"    kit / plain: per epoch {kit_epoch / plain_epoch:.2f}x{ratio} (target <= 1.2x"
            f"{' and under 5 s to 98%' if device.type == 'cuda' else ''})"
        )
    if len(devices) == 1:
        print("  no CUDA device here: run `make bench` on a GPU machine for the GPU rows")
