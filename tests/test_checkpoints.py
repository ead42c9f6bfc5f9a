"""Loading checkpoints: NVIDIA's pickles without executing them, our own folders, and refusals."""

import json
import os
import pickle
import subprocess

import pytest
import torch
from safetensors.torch import load_file

from invert3d.checkpoints import load_generator, load_nvidia_pickle, save_generator
from invert3d.errors import CheckpointError
from invert3d.generator import GeneratorConfig, TriPlaneGenerator
from tests.nvidia_pickles import write_eg3d_pickle


@pytest.fixture(scope="module")
def small(eg3d_dir):
    spec = json.loads((eg3d_dir / "eg3d_small_spec.json").read_text())
    G = TriPlaneGenerator(GeneratorConfig.from_nvidia(spec["init_kwargs"], spec["neural_rendering_resolution"]))
    G.load_state_dict(load_file(eg3d_dir / "eg3d_small_weights.safetensors"))
    return spec, G, load_file(eg3d_dir / "eg3d_small_io.safetensors")


def _image(G, io):
    with torch.no_grad():
        return G.synthesis(io["ws"], io["c"], deterministic=True)["image"]


def test_persistence_pickle_loads_without_running_embedded_source(tmp_path, small):
    spec, G, io = small
    marker = tmp_path / "executed.txt"
    path = tmp_path / "network.pkl"
    write_eg3d_pickle(path, G, spec["init_kwargs"], spec["neural_rendering_resolution"], marker)
    loaded = load_nvidia_pickle(path)
    assert not marker.exists()
    torch.testing.assert_close(_image(loaded, io), io["image"], atol=5e-5, rtol=0)
    assert loaded.cfg == G.cfg


class _Shell:
    def __init__(self, command):
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


class _Popen:
    def __init__(self, argv):
        self.argv = argv

    def __reduce__(self):
        return (subprocess.Popen, (self.argv,))


class _WriteFile:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (exec, (f"open({str(self.path)!r}, 'w').write('pwned')",))


@pytest.mark.parametrize("make", [
    lambda m: _Shell(f"touch {m}"),
    lambda m: _Popen(["touch", str(m)]),
    lambda m: _WriteFile(m),
    lambda m: {"G_ema": _Shell(f"touch {m}")},
])
def test_malicious_pickles_are_refused_and_nothing_runs(tmp_path, make):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(make(marker)))
    with pytest.raises(CheckpointError, match="refusing to load"):
        load_generator(path)
    assert not marker.exists()


def test_truncated_and_foreign_files_give_clear_errors(tmp_path, eg3d_dir):
    data = (eg3d_dir / "eg3d_small_nvidia_format.pkl").read_bytes()
    truncated = tmp_path / "truncated.pkl"
    truncated.write_bytes(data[: len(data) // 3])
    with pytest.raises(CheckpointError, match="truncated|ends early|not a readable"):
        load_generator(truncated)
    text = tmp_path / "notes.pkl"
    text.write_text("this is not a pickle at all\n")
    with pytest.raises(CheckpointError, match="not a readable EG3D pickle"):
        load_generator(text)
    other = tmp_path / "dict.pkl"
    other.write_bytes(pickle.dumps({"weights": [1, 2, 3]}))
    with pytest.raises(CheckpointError, match="no 'G_ema'"):
        load_generator(other)
    with pytest.raises(CheckpointError, match="not found"):
        load_generator(tmp_path / "missing.pkl")


def test_native_folder_round_trip_and_nvidia_names(tmp_path, small):
    spec, G, io = small
    out = save_generator(G, tmp_path / "model")
    state = load_file(out / "weights.safetensors")
    assert sorted(state) == sorted(k for k, _, _ in spec["state_dict"])
    torch.testing.assert_close(_image(load_generator(out), io), _image(G, io), atol=0, rtol=0)


def test_native_folder_with_mismatched_weights_is_refused(tmp_path, small):
    _, G, _ = small
    out = save_generator(G, tmp_path / "model")
    meta = json.loads((out / "config.json").read_text())
    meta["generator"]["channel_max"] = 32
    (out / "config.json").write_text(json.dumps(meta))
    with pytest.raises(CheckpointError, match="do not fit"):
        load_generator(out)


def test_weights_digest_names_the_weights_and_is_cached(tmp_path, small, monkeypatch):
    from invert3d.checkpoints import checkpoint_identity
    from invert3d.checkpoints.digest import file_digest

    monkeypatch.setenv("INVERT3D_CACHE", str(tmp_path / "cache"))
    _, G, _ = small
    save_generator(G, tmp_path / "a")
    save_generator(G, tmp_path / "b")
    first = checkpoint_identity(tmp_path / "a")
    assert first == {"path": str(tmp_path / "a"), "sha256": checkpoint_identity(tmp_path / "b")["sha256"]}
    assert len(first["sha256"]) == 64 and checkpoint_identity()["path"] == "embedded"
    with torch.no_grad():
        G.decoder.net[0].bias.add_(1e-3)
    save_generator(G, tmp_path / "a")
    assert checkpoint_identity(tmp_path / "a")["sha256"] != first["sha256"]
    # A digest is hashed once, then read from the cache while the file is unchanged; a rewrite of the same size
    # that keeps the modification time (cp -p) is still seen (its change time moves).
    import invert3d.checkpoints.digest as digest_module

    blob = tmp_path / "blob.bin"
    blob.write_bytes(b"0123456789")
    digest = file_digest(blob)
    with monkeypatch.context() as m:
        m.setattr(digest_module, "_hash_file", lambda path: pytest.fail("hashed again"))
        assert file_digest(blob) == digest
    stat = blob.stat()
    blob.write_bytes(b"9876543210")
    os.utime(blob, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert file_digest(blob) != digest
    (tmp_path / "cache" / "digests.json").write_text('"not a table"')  # a damaged cache is rebuilt
    assert file_digest(blob) == checkpoint_identity(blob)["sha256"]
