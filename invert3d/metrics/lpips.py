"""LPIPS (Zhang et al. 2018, v0.1) with real ImageNet backbones, in plain torch.

``LPIPS('vgg')`` / ``LPIPS('alex')`` map two image batches [N, 3, H, W] in [-1, 1] to distances [N]. Matches the
official ``lpips`` package on its reference images (see tests/test_lpips.py).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from invert3d.metrics.lpips_weights import lpips_state

# (out channels, kernel, stride, padding) of the convolutions; 'M' is a 2x2 (VGG) or 3x3/2 (AlexNet) max-pool.
VGG16 = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]
VGG_TAPS = (1, 3, 6, 9, 12)  # conv indices whose ReLU outputs are compared (relu1_2 ... relu5_3)
ALEX = [(64, 11, 4, 2), "M", (192, 5, 1, 2), "M", (384, 3, 1, 1), (256, 3, 1, 1), (256, 3, 1, 1)]
SHIFT = (-0.030, -0.088, -0.188)
SCALE = (0.458, 0.448, 0.450)


class LPIPS(nn.Module):
    def __init__(self, net: str = "vgg"):
        super().__init__()
        self.net = net
        convs: list[nn.Conv2d] = []
        self.plan: list[object] = []  # conv index or 'M'
        in_ch = 3
        if net == "vgg":
            for v in VGG16:
                if v == "M":
                    self.plan.append("M")
                else:
                    self.plan.append(len(convs))
                    convs.append(nn.Conv2d(in_ch, v, 3, padding=1))
                    in_ch = v
            self.taps = VGG_TAPS
            self.pool = (2, 2)
        else:
            for v in ALEX:
                if v == "M":
                    self.plan.append("M")
                else:
                    out_ch, k, s, p = v
                    self.plan.append(len(convs))
                    convs.append(nn.Conv2d(in_ch, out_ch, k, stride=s, padding=p))
                    in_ch = out_ch
            self.taps = (0, 1, 2, 3, 4)
            self.pool = (3, 2)
        self.convs = nn.ModuleList(convs)
        widths = [convs[i].out_channels for i in self.taps]
        for k, c in enumerate(widths):
            self.register_buffer(f"lin_{k}", torch.zeros(1, c, 1, 1))
        self.register_buffer("shift", torch.tensor(SHIFT).view(1, 3, 1, 1))
        self.register_buffer("scale", torch.tensor(SCALE).view(1, 3, 1, 1))
        state = lpips_state(net)
        with torch.no_grad():
            for i, conv in enumerate(convs):
                conv.weight.copy_(state[f"features.{i}.weight"])
                conv.bias.copy_(state[f"features.{i}.bias"])
            for k in range(len(widths)):
                getattr(self, f"lin_{k}").copy_(state[f"lin.{k}"])
        self.eval().requires_grad_(False)

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Images [N, 3, H, W] in [-1, 1] -> the compared activations, unit-normalized along channels."""
        x = (x - self.shift) / self.scale
        feats = []
        for step in self.plan:
            if step == "M":
                x = F.max_pool2d(x, self.pool[0], self.pool[1])
            else:
                x = F.relu(self.convs[step](x))
                if step in self.taps:
                    feats.append(x / (x.square().sum(1, keepdim=True).sqrt() + 1e-10))
        return feats

    def distance(self, fa: list[torch.Tensor], fb: list[torch.Tensor]) -> torch.Tensor:
        """Distances [N] between two images' ``features`` (fb may hold one image, broadcast over N); computed in
        float32 whatever the features' precision."""
        total = 0.0
        for k, (x, y) in enumerate(zip(fa, fb)):
            d = F.conv2d((x.float() - y.float()).square(), getattr(self, f"lin_{k}"))
            total = total + d.mean(dim=(2, 3))
        return total.reshape(-1)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """a, b: [N, 3, H, W] in [-1, 1] -> [N] distances (differentiable in a and b)."""
        return self.distance(self.features(a), self.features(b))
