"""NODEFLOW["SANDBOX"]: the code node's limits per run from the environment, with floors and ceilings."""

import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from nodeflow import settings as project_settings
from sandbox.limits import MINIMA, SandboxLimits
from tests.conftest import ROOT, service_env

LIMIT_VARIABLES = ["CPU_MS", "WALL_MS", "MEMORY_MB", "OUTPUT_BYTES"]


@pytest.fixture
def clean_env(monkeypatch):
    for suffix in LIMIT_VARIABLES:
        monkeypatch.delenv(f"NODEFLOW_SANDBOX_{suffix}", raising=False)
        monkeypatch.delenv(f"NODEFLOW_SANDBOX_MAX_{suffix}", raising=False)
    return monkeypatch


def limits_from_env():
    return project_settings._sandbox_limits_from_env()


def test_the_settings_bounds_agree_with_the_sandbox():
    bounds = project_settings._SANDBOX_LIMIT_BOUNDS
    assert set(bounds) == set(SandboxLimits().as_dict())
    assert {limit: default for limit, (_, default, _, _) in bounds.items()} == SandboxLimits().as_dict()
    assert {limit: floor for limit, (_, _, floor, _) in bounds.items()} == MINIMA.as_dict()
    assert sorted(suffix for suffix, *_ in bounds.values()) == sorted(LIMIT_VARIABLES)


def test_without_variables_the_defaults_are_engine_md_and_the_maxima_equal_them(clean_env):
    expected = {"cpu_ms": 250, "wall_ms": 1000, "memory_mb": 128, "output_bytes": 1024 * 1024}
    assert limits_from_env() == {"default_limits": expected, "max_limits": expected}


def test_the_defaults_and_maxima_come_from_the_environment(clean_env):
    clean_env.setenv("NODEFLOW_SANDBOX_CPU_MS", "500")
    clean_env.setenv("NODEFLOW_SANDBOX_MAX_CPU_MS", "2000")
    clean_env.setenv("NODEFLOW_SANDBOX_WALL_MS", "3000")  # its maximum follows it
    clean_env.setenv("NODEFLOW_SANDBOX_MAX_MEMORY_MB", "512")

    limits = limits_from_env()

    assert limits["default_limits"] == {"cpu_ms": 500, "wall_ms": 3000, "memory_mb": 128, "output_bytes": 1048576}
    assert limits["max_limits"] == {"cpu_ms": 2000, "wall_ms": 3000, "memory_mb": 512, "output_bytes": 1048576}


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("NODEFLOW_SANDBOX_CPU_MS", "fast", "NODEFLOW_SANDBOX_CPU_MS='fast' is not a whole number"),
    ("NODEFLOW_SANDBOX_MEMORY_MB", "8", "NODEFLOW_SANDBOX_MEMORY_MB=8 is below the minimum of 16"),
    ("NODEFLOW_SANDBOX_MAX_WALL_MS", "99999999", "NODEFLOW_SANDBOX_MAX_WALL_MS=99999999 is above the maximum of"),
    ("NODEFLOW_SANDBOX_MAX_OUTPUT_BYTES", "1000", "NODEFLOW_SANDBOX_MAX_OUTPUT_BYTES=1000 is below the minimum"),
    ("NODEFLOW_SANDBOX_MAX_CPU_MS", "100",
     "NODEFLOW_SANDBOX_CPU_MS=250 is above NODEFLOW_SANDBOX_MAX_CPU_MS=100"),
])
def test_a_bad_value_is_refused_naming_the_variable(clean_env, variable, value, message):
    clean_env.setenv(variable, value)
    with pytest.raises(ImproperlyConfigured, match=message.replace("(", r"\(")):
        limits_from_env()


def test_a_bad_value_stops_nodeflow_at_start():
    result = subprocess.run([sys.executable, "-c", "import django; django.setup()"], cwd=ROOT, timeout=60,
                            env=service_env(NODEFLOW_SANDBOX_WALL_MS="2000", NODEFLOW_SANDBOX_MAX_WALL_MS="1500"),
                            capture_output=True, text=True)
    assert result.returncode != 0
    assert "NODEFLOW_SANDBOX_WALL_MS=2000 is above NODEFLOW_SANDBOX_MAX_WALL_MS=1500" in result.stderr
