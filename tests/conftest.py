"""Shared fixtures. Nothing in the test suite touches the network."""

import os

import pytest

# belt and braces: every Hugging Face library stays offline during tests
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


@pytest.fixture
def outputs(tmp_path, monkeypatch):
    """Redirect ``outputs/`` to a temporary directory for one test."""
    monkeypatch.setenv("VLMROBUST_OUTPUTS", str(tmp_path / "outputs"))
    return tmp_path / "outputs"


def _cpu_line() -> str:
    from vlmrobust.provenance import describe_cpu

    return f"cpu: {describe_cpu()}"


def pytest_report_header(config):
    """Float results differ between CPU kinds (AMD EPYC, Intel Xeon): every test log names its CPU."""
    return _cpu_line()


def pytest_terminal_summary(terminalreporter):
    terminalreporter.write_line(f"tests ran on {_cpu_line()}")
