"""A linear support vector machine (L2-regularized squared hinge, solved by L-BFGS): InterFaceGAN's classifier."""

from __future__ import annotations

import torch


def fit_linear_svm(x: torch.Tensor, y: torch.Tensor, c: float = 1.0, iterations: int = 200
                   ) -> tuple[torch.Tensor, float]:
    """The separating hyperplane of samples x [N, D] with labels y [N] in {-1, +1}: (normal [D], bias), so that
    sign(x @ normal + bias) predicts y. Minimizes |w|² / 2 + c * sum(max(0, 1 - y (x'·w + bias))²) over the
    standardized samples x' (LinearSVC's objective), then maps w back to x's coordinates."""
    x, y = x.double(), y.double()
    mean, scale = x.mean(0), x.std(0).clamp_min(1e-8)
    xs = (x - mean) / scale  # standardized, so one c suits any latent's scale
    weight = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
    bias = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([weight, bias], max_iter=iterations, line_search_fn="strong_wolfe")

    def objective() -> torch.Tensor:
        optimizer.zero_grad()
        margin = (1 - y * (xs @ weight + bias)).clamp_min(0)
        loss = 0.5 * weight.square().sum() + c * margin.square().sum()
        loss.backward()
        return loss

    optimizer.step(objective)
    normal = (weight / scale).detach()  # back to the raw coordinates: x·normal + b0 = xs·weight + bias
    return normal.float(), float(bias.detach() - (mean.double() * normal).sum())


def accuracy(x: torch.Tensor, y: torch.Tensor, normal: torch.Tensor, bias: float) -> float:
    """Share of samples x [N, D] whose side of the hyperplane matches y [N] in {-1, +1}."""
    return float(((x.float() @ normal + bias).sign() == y.sign()).float().mean())
