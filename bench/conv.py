"""Benchmark: the reference NumPy conv2d (forward + backward) against PyTorch on the CPU.

Shape: x (N, C_in, H, W) = (32, 16, 32, 32), w (C_out, C_in, KH, KW) = (32, 16, 3, 3),
stride 1, padding 1. Each row is the median wall time of one forward + backward pass
over several repeats after warm-up; the implementations run one after the other in one
process (one block each, see ``_time_steps``). PyTorch runs with as many intra-op
threads as NumPy's BLAS uses (read with threadpoolctl when installed), so the
comparison is fair; a second table repeats it with one thread for both.

Run:  python -c "from bench.conv import main; main()"
"""

import statistics
import time

import numpy as np
import torch

from solution.cnn_layer import conv2d_backward, conv2d_forward

SHAPE = dict(N=32, C_in=16, C_out=32, H=32, W=32, K=3, stride=1, padding=1)


def _blas_threads():
    """(library name, thread count) of NumPy's BLAS, or (None, None) if unknown."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None, None
    for info in threadpool_info():
        if info.get("user_api") == "blas" and "numpy" in info.get("filepath", ""):
            return info.get("internal_api"), info.get("num_threads")
    return None, None


def _numpy_step(x, w, b, dout, stride, padding):
    def step():
        out, cache = conv2d_forward(x, w, b, stride, padding)
        conv2d_backward(dout, cache)

    return step


def _torch_step(x, w, b, dout, stride, padding, dtype):
    xt, wt, bt = (torch.tensor(a, dtype=dtype, requires_grad=True) for a in (x, w, b))
    gt = torch.tensor(dout, dtype=dtype)

    def step():
        out = torch.nn.functional.conv2d(xt, wt, bt, stride=stride, padding=padding)
        out.backward(gt)
        xt.grad = wt.grad = bt.grad = None

    return step


def _time_steps(steps, repeats, warmup):
    """Median ms per step, one block per implementation (not interleaved).

    OpenBLAS and OpenMP worker threads spin-wait after a call; alternating the two
    libraries makes them fight over the cores and slows both (about 2x on 2 cores).
    """
    median_ms = {}
    for name, step in steps.items():
        time.sleep(0.2)  # let the other pool's spinners idle
        for _ in range(warmup):
            step()
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            step()
            times.append(time.perf_counter() - t0)
        median_ms[name] = 1e3 * statistics.median(times)
    return median_ms


def _print_table(median_ms, header):
    ref = median_ms["reference numpy float64"]
    print(header)
    print(f"  {'implementation':<26}{'median ms':>10}{'reference / this':>18}")
    for name, ms in median_ms.items():
        print(f"  {name:<26}{ms:>10.2f}{ref / ms:>18.2f}")


def main(repeats=20, warmup=3):
    """Print reference vs torch CPU times (ms) for conv2d forward + backward, and ratios.

    Two tables: with NumPy's BLAS thread count for both libraries, and with one thread
    for both (when threadpoolctl can limit the BLAS; steadier on a busy machine).
    Returns {thread count: {implementation: median ms}}.
    """
    s = SHAPE
    rng = np.random.default_rng(0)
    x = rng.standard_normal((s["N"], s["C_in"], s["H"], s["W"]))
    w = rng.standard_normal((s["C_out"], s["C_in"], s["K"], s["K"]))
    b = rng.standard_normal(s["C_out"])
    H_out = (s["H"] + 2 * s["padding"] - s["K"]) // s["stride"] + 1
    W_out = (s["W"] + 2 * s["padding"] - s["K"]) // s["stride"] + 1
    dout = rng.standard_normal((s["N"], s["C_out"], H_out, W_out))
    args = (x, w, b, dout, s["stride"], s["padding"])
    steps = {
        "reference numpy float64": _numpy_step(*args),
        "torch CPU float64": _torch_step(*args, torch.float64),
        "torch CPU float32": _torch_step(*args, torch.float32),
    }
    print(
        f"conv2d forward+backward, x ({s['N']}, {s['C_in']}, {s['H']}, {s['W']}), "
        f"w ({s['C_out']}, {s['C_in']}, {s['K']}, {s['K']}), stride {s['stride']}, "
        f"padding {s['padding']}; median of {repeats} after {warmup} warm-up"
    )

    blas, blas_threads = _blas_threads()
    torch_threads_before = torch.get_num_threads()
    results = {}
    try:
        if blas_threads:
            torch.set_num_threads(blas_threads)
        results[blas_threads] = _time_steps(steps, repeats, warmup)
        _print_table(
            results[blas_threads],
            f"threads: numpy BLAS ({blas or 'unknown'}) = "
            f"{blas_threads or 'unknown'}, torch = {torch.get_num_threads()}",
        )
        if blas_threads and blas_threads > 1:
            from threadpoolctl import threadpool_limits

            torch.set_num_threads(1)
            with threadpool_limits(limits=1, user_api="blas"):
                results[1] = _time_steps(steps, repeats, warmup)
            _print_table(results[1], f"threads: numpy BLAS ({blas}) = 1, torch = 1")
    finally:
        torch.set_num_threads(torch_threads_before)
    return results


if __name__ == "__main__":
    main()
