"""Meshes: extraction from implicit fields by marching cubes, z-buffer rasterization, and PLY files."""

from invert3d.geometry.mesh import Mesh, extract_mesh, grid_points
from invert3d.geometry.ply import write_ply
from invert3d.geometry.raster import Fragments, rasterize, render_vertex_colors, vertex_visibility

__all__ = ["Fragments", "Mesh", "extract_mesh", "grid_points", "rasterize", "render_vertex_colors",
           "vertex_visibility", "write_ply"]
