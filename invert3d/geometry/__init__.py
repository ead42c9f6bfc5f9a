"""Meshes: extraction from implicit fields by marching cubes, and PLY files."""

from invert3d.geometry.mesh import Mesh, extract_mesh, grid_points
from invert3d.geometry.ply import write_ply

__all__ = ["Mesh", "extract_mesh", "grid_points", "write_ply"]
