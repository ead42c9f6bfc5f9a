"""Stage 5: pseudo view = visible part V_i where the photo is seen, occluded part O_i elsewhere.

Images are [N, 3, H, W] in [-1, 1]; masks [N, 1, H, W] in [0, 1].
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from invert3d.media import from_uint8, to_uint8


def blend_gaussian(visible: torch.Tensor, occluded: torch.Tensor, soft_mask: torch.Tensor) -> torch.Tensor:
    """Alpha blend with the softened visible mask."""
    return soft_mask * visible + (1 - soft_mask) * occluded


def blend_poisson(visible: torch.Tensor, occluded: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Poisson (gradient-domain) blending of V_i into O_i inside the binary ``mask`` (OpenCV seamlessClone):
    the visible texture keeps its gradients, its colours meet O_i at the boundary without a seam."""
    import cv2

    out = []
    pad = 2  # seamlessClone needs the mask's bounding box strictly inside the image
    for v, o, m in zip(visible.cpu(), occluded.cpu(), mask.cpu()):
        binary = (m[0].numpy() > 0.5).astype(np.uint8) * 255
        binary[:1], binary[-1:], binary[:, :1], binary[:, -1:] = 0, 0, 0, 0
        if binary.sum() == 0:
            out.append(o)
            continue
        src = cv2.copyMakeBorder(to_uint8(v), pad, pad, pad, pad, cv2.BORDER_REFLECT)
        dst = cv2.copyMakeBorder(to_uint8(o), pad, pad, pad, pad, cv2.BORDER_REFLECT)
        msk = cv2.copyMakeBorder(binary, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=0)
        x, y, w, h = cv2.boundingRect(msk)
        centre = (x + w // 2, y + h // 2)
        blended = cv2.seamlessClone(src, dst, msk.copy(), centre, cv2.NORMAL_CLONE)[pad:-pad, pad:-pad]
        out.append(from_uint8(blended)[0])
    return torch.stack(out).to(visible.device)


def fill_bilinear(image: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """The --no-occluded ablation: fill pixels outside ``mask`` by push-pull interpolation (average down an
    image pyramid of the known pixels, then bilinear upsampling back into the holes)."""
    if mask.sum() == 0:
        return image
    levels = [(image * mask, mask)]
    while levels[-1][0].shape[-1] > 1:
        colour, weight = levels[-1]
        levels.append((F.avg_pool2d(colour, 2, ceil_mode=True), F.avg_pool2d(weight, 2, ceil_mode=True)))
    colour, weight = levels[-1]
    filled = colour / weight.clamp_min(1e-8)
    for colour, weight in reversed(levels[:-1]):
        up = F.interpolate(filled, size=colour.shape[-2:], mode="bilinear", align_corners=False)
        filled = torch.where(weight > 0, colour / weight.clamp_min(1e-8), up)
    return torch.where(mask > 0.5, image, filled)
