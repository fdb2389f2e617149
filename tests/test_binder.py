"""Binder: the link from the clone's remote."""

import importlib.util

import pytest

from vlmrobust import paths


def _tool():
    spec = importlib.util.spec_from_file_location("binder_url", paths.ROOT / "tools" / "binder_url.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("url", ["https://github.com/ann/vlm-study.git", "git@github.com:ann/vlm-study.git",
                                 "https://github.com/ann/vlm-study", "ssh://git@github.com/ann/vlm-study.git",
                                 "https://token@github.com/ann/vlm-study.git\n"])
def test_github_remotes_give_the_binder_link(url):
    b = _tool()
    assert b.github_path(url) == "ann/vlm-study"
    assert b.binder_url("ann/vlm-study") == ("https://mybinder.org/v2/gh/ann/vlm-study/HEAD"
                                             "?urlpath=lab/tree/notebooks/03_scoring.ipynb")
    assert (paths.ROOT / b.NOTEBOOK).exists()


def test_a_remote_elsewhere_is_refused():
    assert _tool().github_path("https://gitlab.com/ann/vlm-study.git") is None


def test_a_clone_without_the_remote_is_told_what_to_do(capsys):
    assert _tool().main(["--remote", "no-such-remote"]) == 2
    assert "has no git remote 'no-such-remote'" in capsys.readouterr().err
