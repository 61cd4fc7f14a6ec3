"""The example plugin's own test suite runs on the fixtures of the pytest plugin ``kundenakte.testing``.

It is run the way a plugin author runs it: ``python -m pytest`` in the plugin's folder, a separate
pytest process that knows nothing of this project's ``tests/`` package.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.example_plugin import require_plugin

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "kundenakte-reklamation"


@pytest.mark.slow
def test_the_example_plugins_own_tests_pass_on_kundenakte_testing() -> None:
    require_plugin()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=EXAMPLE,
                            env=dict(os.environ), capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "4 passed" in result.stdout or "2 passed" in result.stdout, result.stdout[-1000:]
