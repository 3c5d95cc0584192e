"""The tutorial's training loop, line for line, and a wall and CPU timer: the yardstick that
``speed.py`` and ``batched.py`` measure the engine against, in the same process."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

# The tutorial's hyperparameters, named as in 406_GAN.py.
BATCH_SIZE = 64
LR_G = 0.0001
LR_D = 0.0001
N_IDEAS = 5
ART_COMPONENTS = 15
PAINT_POINTS = np.vstack([np.linspace(-1, 1, ART_COMPONENTS) for _ in range(BATCH_SIZE)])


def artist_works() -> torch.Tensor:
    a = np.random.uniform(1, 2, size=BATCH_SIZE)[:, np.newaxis]
    paintings = a * np.power(PAINT_POINTS, 2) + (a - 1)
    paintings = torch.from_numpy(paintings).float()
    return paintings


class TutorialLoop:
    """The training loop of the fixed ``406_GAN.py``, line for line, without its plotting."""

    def __init__(self) -> None:
        torch.manual_seed(1)
        np.random.seed(1)
        self.G = nn.Sequential(
            nn.Linear(N_IDEAS, 128), nn.ReLU(), nn.Linear(128, ART_COMPONENTS))
        self.D = nn.Sequential(
            nn.Linear(ART_COMPONENTS, 128), nn.ReLU(), nn.Linear(128, 1), nn.Sigmoid())
        self.opt_D = torch.optim.Adam(self.D.parameters(), lr=LR_D)
        self.opt_G = torch.optim.Adam(self.G.parameters(), lr=LR_G)

    def train(self, steps: int) -> None:
        G, D, opt_G, opt_D = self.G, self.D, self.opt_G, self.opt_D
        for _ in range(steps):
            artist_paintings = artist_works()
            G_ideas = torch.randn(BATCH_SIZE, N_IDEAS, requires_grad=True)
            G_paintings = G(G_ideas)
            prob_artist1 = D(G_paintings)
            G_loss = torch.mean(torch.log(1. - prob_artist1))
            opt_G.zero_grad()
            G_loss.backward()
            opt_G.step()

            prob_artist0 = D(artist_paintings)
            prob_artist1 = D(G_paintings.detach())
            D_loss = - torch.mean(torch.log(prob_artist0) + torch.log(1. - prob_artist1))
            opt_D.zero_grad()
            D_loss.backward(retain_graph=True)
            opt_D.step()


def timed(work: Callable[[], object]) -> tuple[float, float]:
    """Wall and CPU seconds of ``work``. CPU time is what this process got: on a shared machine
    it shows the ratio without the time other processes took the core away."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu
