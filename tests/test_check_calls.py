"""``ivr check --calls`` as an operator runs it (the installed command, a real process) on a line
with several leaflets: the contract holds over every state and the real calls it walks find no
fault, including the returning caller offered to carry on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from .conftest import PROJECT

MANY = PROJECT / "tests" / "fixtures" / "leaflets-many"


def test_check_calls_passes_on_a_line_with_several_leaflets(tmp_path):
    """Before: the walk that rings again expected key 1 to reach a section, which with several
    leaflets only opens the first leaflet's menu, so nothing was heard and no offer could follow."""
    env = {**os.environ, "IVR_LEAFLETS_DIR": str(MANY), "IVR_INSTANCE_DIR": str(tmp_path),
           "IVR_NURSE_NUMBER": "+441632960001", "IVR_NURSE_HOURS": "Mon-Fri 09:00-17:00", "TWILIO_AUTH_TOKEN": ""}
    result = subprocess.run([str(Path(sys.executable).parent / "ivr"), "check", "--calls"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "caller-safety contract: 0 broken promise(s) over every state" in output
    assert "walked 9 real calls through the app over HTTP (0 failure(s))" in output
