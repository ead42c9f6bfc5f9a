"""Mesh files: binary little-endian PLY writing and reading (vertices, optional vertex colours, triangles), and
OBJ writing."""

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


def read_ply(path: str | Path) -> Mesh:
    """Read a mesh written by ``write_ply`` (binary little-endian; float xyz, optional uchar rgb, triangles)."""
    data = Path(path).read_bytes()
    end = data.find(b"end_header\n")
    if not data.startswith(b"ply\n") or end < 0:
        raise ValueError(f"{path}: not a PLY file")
    header = data[:end].decode("ascii", "replace").splitlines()
    if "format binary_little_endian 1.0" not in header:
        raise ValueError(f"{path}: only binary little-endian PLY is read")
    counts = {line.split()[1]: int(line.split()[2]) for line in header if line.startswith("element ")}
    has_colors = "property uchar red" in header
    vertex_dtype = [("xyz", "<f4", 3)] + ([("rgb", "u1", 3)] if has_colors else [])
    vertices = np.frombuffer(data, dtype=vertex_dtype, count=counts.get("vertex", 0), offset=end + 11)
    faces = np.frombuffer(data, dtype=[("n", "u1"), ("idx", "<i4", 3)], count=counts.get("face", 0),
                          offset=end + 11 + vertices.nbytes)
    if (faces["n"] != 3).any():
        raise ValueError(f"{path}: only triangle meshes are read")
    return Mesh(vertices["xyz"].copy(), faces["idx"].astype(np.int64), vertices["rgb"].copy() if has_colors else None)


def write_obj(path: str | Path, mesh: Mesh) -> Path:
    """Wavefront OBJ (text): ``v x y z [r g b]`` (colours 0..1, the common vertex-colour extension) and 1-based
    triangles."""
    lines = []
    colours = None if mesh.colors is None else mesh.colors.astype(np.float64) / 255
    for i, v in enumerate(mesh.vertices):
        extra = "" if colours is None else " " + " ".join(f"{c:.4f}" for c in colours[i])
        lines.append(f"v {v[0]:.6f} {v[1]:.6f} {v[2]:.6f}{extra}")
    lines += [f"f {a + 1} {b + 1} {c + 1}" for a, b, c in mesh.faces]
    with atomic_file(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n")
    return Path(path)
