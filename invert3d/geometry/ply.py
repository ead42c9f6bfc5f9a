"""Binary little-endian PLY writing (vertices, optional vertex colours, triangles)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from invert3d.files import atomic_file
from invert3d.geometry.mesh import Mesh


def write_ply(path: str | Path, mesh: Mesh) -> Path:
    v = np.ascontiguousarray(mesh.vertices, dtype="<f4")
    f = np.ascontiguousarray(mesh.faces, dtype="<i4")
    header = ["ply", "format binary_little_endian 1.0", f"element vertex {len(v)}",
              "property float x", "property float y", "property float z"]
    vertex_dtype = [("xyz", "<f4", 3)]
    if mesh.colors is not None:
        header += ["property uchar red", "property uchar green", "property uchar blue"]
        vertex_dtype.append(("rgb", "u1", 3))
    header += [f"element face {len(f)}", "property list uchar int vertex_indices", "end_header"]
    vertices = np.empty(len(v), dtype=vertex_dtype)
    vertices["xyz"] = v
    if mesh.colors is not None:
        vertices["rgb"] = mesh.colors
    faces = np.empty(len(f), dtype=[("n", "u1"), ("idx", "<i4", 3)])
    faces["n"] = 3
    faces["idx"] = f
    with atomic_file(path) as tmp:
        with open(tmp, "wb") as out:
            out.write(("\n".join(header) + "\n").encode("ascii"))
            out.write(vertices.tobytes())
            out.write(faces.tobytes())
    return Path(path)
