import pytest
import torch

from seqtips.lessons import nb03_optimizers as lesson

C = 3.0
SHORT_MEMORY = (0.0, 1 / (1 + C * C))  # Reddi et al.'s Theorem 1 betas


def test_online_counterexample_adam_goes_to_worst_point_sgd_to_best():
    adam_path, adam_loss = lesson.online_counterexample(
        lambda p: torch.optim.Adam(p, lr=0.5, betas=SHORT_MEMORY), big=C, steps=600)
    sgd_path, sgd_loss = lesson.online_counterexample(lambda p: torch.optim.SGD(p, lr=0.5), big=C, steps=600)
    assert len(adam_path) == 600 and all(-1.0 <= v <= 1.0 for v in adam_path + sgd_path)
    assert adam_path[-1] > 0.9 and sgd_path[-1] < -0.9
    assert adam_loss > 0 > sgd_loss
    assert sgd_loss >= -(C - 2) / 3 - 1e-9


def test_the_construction_needs_the_short_memory():
    """AMSGrad with the same betas, and Adam with its default betas, end near the best point x = -1."""
    ams, _ = lesson.online_counterexample(
        lambda p: torch.optim.Adam(p, lr=0.5, betas=SHORT_MEMORY, amsgrad=True), big=C, steps=900)
    default, default_loss = lesson.online_counterexample(lambda p: torch.optim.Adam(p, lr=0.5), big=C, steps=900)
    assert ams[-1] < -0.9 and default[-1] < -0.99
    assert default_loss < 0


def test_online_counterexample_checks_arguments():
    with pytest.raises(ValueError):
        lesson.online_counterexample(lambda p: torch.optim.SGD(p, lr=0.1), big=2.0)
    with pytest.raises(TypeError):
        lesson.online_counterexample("adam")
    with pytest.raises(ValueError):
        lesson.online_counterexample(lambda p: torch.optim.SGD(p, lr=0.1), steps=2)
