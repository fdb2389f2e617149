"""The shipped zoo: installed only when its config hash matches and every digest checks, checked again
on every load, and never silently replaced by training."""

import subprocess

import pytest

from tinymodels import TINY
from vlmrobust import digests, models, params, zoo
from vlmrobust.zoo import shipped


@pytest.fixture(scope="module")
def shipped_root(tmp_path_factory):
    """A micro-zoo trained once and shipped into a folder of its own (as zoo-weights/ holds the demo's)."""
    root = tmp_path_factory.mktemp("shipped")
    cfg = params.zoo_config({**TINY, "dir": "unused"})
    zoo.train(root / "trained", cfg, progress=False, log=lambda m: None)
    dest = shipped.ship(root / "trained", cfg, root / "zoo-weights")
    assert dest.name == zoo.config_hash(cfg)
    return root / "zoo-weights", cfg


def _flip_one_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


def test_the_manifest_is_sha256sum_compatible(shipped_root):
    root, cfg = shipped_root
    d = shipped.shipped_dir(cfg, root)
    listed = digests.read(d)
    assert {"pt/model.safetensors", "po-aug/config.json", "zoo.json"} <= set(listed)
    r = subprocess.run(["sha256sum", "--check", "--quiet", digests.MANIFEST], cwd=d, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_a_matching_config_hash_installs_the_shipped_zoo_without_training(shipped_root, tmp_path):
    root, cfg = shipped_root
    info, how = shipped.obtain(tmp_path / "zoo", cfg, log=lambda m: None, root=root)
    assert how == "shipped" and info["config_hash"] == zoo.config_hash(cfg)
    assert digests.verify(tmp_path / "zoo") == len(digests.read(shipped.shipped_dir(cfg, root)))
    # the second time it is already there: checked again, not copied
    assert shipped.obtain(tmp_path / "zoo", cfg, log=lambda m: None, root=root)[1] == "shipped"
    spec = {"source": str(tmp_path / "zoo" / "it"), "family": "gemma3", "prompt_style": "chat", "dtype": "float32"}
    assert models.check("zoo-it", spec, "test", "cpu")["source"] == str(tmp_path / "zoo" / "it")


def test_one_changed_byte_in_the_shipped_weights_is_an_error_naming_the_file(shipped_root, tmp_path):
    root, cfg = shipped_root
    copy = tmp_path / "weights"
    subprocess.run(["cp", "-r", str(root), str(copy)], check=True)
    bad = shipped.shipped_dir(cfg, copy) / "po" / "model.safetensors"
    _flip_one_byte(bad)
    with pytest.raises(digests.DigestError, match=rf"{bad}: SHA-256 .* differs"):
        shipped.obtain(tmp_path / "zoo", cfg, log=lambda m: None, root=copy)
    assert not (tmp_path / "zoo" / "po").exists()  # nothing installed, nothing trained


def test_every_load_checks_an_installed_checkpoint(shipped_root, tmp_path):
    root, cfg = shipped_root
    shipped.obtain(tmp_path / "zoo", cfg, log=lambda m: None, root=root)
    bad = tmp_path / "zoo" / "it" / "model.safetensors"
    _flip_one_byte(bad)
    spec = {"source": str(tmp_path / "zoo" / "it"), "family": "gemma3", "prompt_style": "chat", "dtype": "float32"}
    with pytest.raises(models.ModelError, match=rf"model 'zoo-it': {bad}: SHA-256"):
        models.load("zoo-it", spec, "test", "cpu")


def test_another_config_hash_trains_and_shipping_it_replaces_the_old_hash(shipped_root, tmp_path):
    root, cfg = shipped_root
    other = {**cfg, "seed": cfg["seed"] + 1}
    info, how = shipped.obtain(tmp_path / "zoo", other, log=lambda m: None, root=root)
    assert how == "trained" and info["config_hash"] == zoo.config_hash(other)
    assert digests.verify(tmp_path / "zoo") > 0  # a trained zoo gets its manifest too
    assert shipped.obtain(tmp_path / "zoo", other, log=lambda m: None, root=root)[1] == "reused"
    copy = tmp_path / "weights"
    subprocess.run(["cp", "-r", str(root), str(copy)], check=True)
    shipped.ship(tmp_path / "zoo", other, copy)
    assert sorted(p.name for p in copy.iterdir()) == [zoo.config_hash(other)]
    with pytest.raises(ValueError, match="holds no zoo trained from these settings"):
        shipped.ship(tmp_path / "zoo", cfg, copy)
