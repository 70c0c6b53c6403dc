"""momentum on PyTorch: the lecture's EMA with torch ops, sgd_momentum_step as one step of
torch.optim.SGD itself (the buffer loaded into the optimizer's state)."""

import torch

from autograder.course.oracles import numpy, tensor

__all__ = ["momentum_step", "sgd_momentum_step", "minimize"]


def _ema_step(theta, grad, velocity, lr, beta):
    velocity = (1.0 - beta) * grad if velocity is None else beta * velocity + (1.0 - beta) * grad
    return theta - lr * velocity, velocity


def momentum_step(theta, grad, velocity, lr, beta):
    theta, velocity = _ema_step(tensor(theta), tensor(grad), None if velocity is None else tensor(velocity), lr, beta)
    return numpy(theta), numpy(velocity)


def sgd_momentum_step(theta, grad, buf, lr, momentum, dampening=0.0, nesterov=False, weight_decay=0.0):
    param = torch.nn.Parameter(tensor(theta))
    param.grad = tensor(grad)
    optimizer = torch.optim.SGD(
        [param], lr=lr, momentum=momentum, dampening=dampening, nesterov=nesterov, weight_decay=weight_decay
    )
    if buf is not None:
        optimizer.state[param]["momentum_buffer"] = tensor(buf)
    optimizer.step()
    buf = optimizer.state[param].get("momentum_buffer")  # torch keeps none when momentum = 0
    return numpy(param), None if buf is None else numpy(buf)


def minimize(grad_fn, theta0, lr, beta, steps):
    theta, velocity = tensor(theta0), None
    rows = [theta]
    for _ in range(steps):
        theta, velocity = _ema_step(theta, tensor(grad_fn(numpy(theta))), velocity, lr, beta)
        rows.append(theta)
    return numpy(torch.stack(rows))
