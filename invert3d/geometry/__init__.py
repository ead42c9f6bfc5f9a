"""Meshes: extraction from implicit fields by marching cubes, z-buffer rasterization,
and PLY files."""

from invert3d.geometry.mesh import Mesh, extract_mesh, grid_points, mesh_from_volume, sample_grid
from invert3d.geometry.ply import read_ply, write_obj, write_ply
from invert3d.geometry.raster import Fragments, rasterize, render_vertex_colors, seen_from, vertex_visibility

__all__ = ["Fragments", "Mesh", "extract_mesh", "grid_points", "mesh_from_volume", "rasterize",
           "render_vertex_colors", "sample_grid", "read_ply", "seen_from", "vertex_visibility", "write_obj",
           "write_ply"]
