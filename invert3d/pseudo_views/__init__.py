"""Pseudo multi-view estimation (paper sec. 3.2): cameras, the photo warped through the coarse mesh (visible
part), generator inpainting (occluded part), masks and blending."""

from invert3d.pseudo_views.build import PseudoViews, combine
from invert3d.pseudo_views.cameras import pseudo_cameras
from invert3d.pseudo_views.masks import difference_mask, erode, soften
from invert3d.pseudo_views.visible import VisiblePart, photo_vertex_colours, warp_photo

__all__ = ["PseudoViews", "VisiblePart", "combine", "difference_mask", "erode", "photo_vertex_colours",
           "pseudo_cameras", "soften", "warp_photo"]
