"""Benchmark: time to 98% test accuracy of the gpu_training reference next to a plain,
well-written PyTorch loop (DataLoader over a TensorDataset, the usual zero_grad/backward/step,
.item() per batch) for the same model, data, optimizer and hyperparameters; on the CPU, and on
CUDA when there is one. Same process, one after the other, each after a warm-up.

Run:  python -c "from bench.gpu import main; main()"
"""
import time

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, TensorDataset

from solution import gpu_training as ref

TARGET = 0.98
MAX_EPOCHS = 40


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def kit_time_to_target(device):
    """Seconds until the reference's test accuracy first reaches TARGET (None if never)."""
    torch.manual_seed(0)
    model = ref.DigitsCNN().to(device)
    data = ref.load_digits_data(device)
    history = ref.train(model, data, MAX_EPOCHS, ref.DEFAULT_BATCH_SIZE, ref.DEFAULT_LR, momentum=0.9, seed=0)
    for acc, seconds in zip(history["test_acc"], history["seconds"]):
        if acc >= TARGET:
            return seconds
    return None


def plain_time_to_target(device):
    """The textbook loop: a DataLoader, per-batch .item(), evaluation after each epoch."""
    torch.manual_seed(0)
    model = ref.DigitsCNN().to(device)
    X_train, y_train, X_test, y_test = ref.load_digits_data(torch.device("cpu"))
    loader = DataLoader(TensorDataset(X_train, y_train), batch_size=ref.DEFAULT_BATCH_SIZE, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    optimizer = torch.optim.SGD(model.parameters(), lr=ref.DEFAULT_LR, momentum=0.9)
    _sync(device)
    start = time.perf_counter()
    for _ in range(MAX_EPOCHS):
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
        if acc >= TARGET:
            _sync(device)
            return time.perf_counter() - start
    return None


def main():
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    print(f"time to {TARGET:.0%} test accuracy on the digits (DigitsCNN, batch {ref.DEFAULT_BATCH_SIZE}, "
          f"lr {ref.DEFAULT_LR}, momentum 0.9); torch {torch.__version__}, {torch.get_num_threads()} CPU threads")
    for device in devices:
        name = torch.cuda.get_device_name() if device.type == "cuda" else "CPU"
        kit_time_to_target(device)  # warm-up: kernels, allocator, data set cache
        kit = kit_time_to_target(device)
        plain = plain_time_to_target(device)
        fmt = lambda t: f"{t:.2f} s" if t is not None else f"not reached in {MAX_EPOCHS} epochs"
        ratio = f"{kit / plain:.2f}x" if kit and plain else "n/a"
        print(f"  {name}: kit reference {fmt(kit)}, plain PyTorch loop {fmt(plain)}, kit/plain = {ratio} "
              f"(target <= 1.2x{' and < 5 s' if device.type == 'cuda' else ''})")
    if len(devices) == 1:
        print("  no CUDA device here: the GPU rows are measured on a machine with one (make bench there)")
