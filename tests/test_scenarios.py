"""The transcripts in tests/scenarios, played through the real ``buurtbot`` command.

Each ``NAME.txt`` is a script; ``NAME.expected`` is what the bot must print for it, byte
for byte. After a deliberate change of texts, regenerate with
``BUURTBOT_UPDATE_TRANSCRIPTS=1 pytest tests/test_scenarios.py`` and read the diff.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).parent / "scenarios"
SCRIPTS = sorted(SCENARIOS.glob("*.txt"))


def play(script: Path, tmp_path: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "console", "--script", str(script)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parent.parent)},
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == "", result.stderr
    return result.stdout


def test_there_are_scenarios() -> None:
    assert len(SCRIPTS) >= 3


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_transcript_matches(script: Path, tmp_path: Path) -> None:
    expected_file = script.with_suffix(".expected")
    output = play(script, tmp_path)
    if os.environ.get("BUURTBOT_UPDATE_TRANSCRIPTS"):
        expected_file.write_text(output, encoding="utf-8")
    assert expected_file.exists(), (
        f"no {expected_file.name}: run with BUURTBOT_UPDATE_TRANSCRIPTS=1"
    )
    assert output == expected_file.read_text(encoding="utf-8")


def test_same_script_same_bytes(tmp_path: Path) -> None:
    script = SCENARIOS / "boodschappen.txt"
    first = play(script, tmp_path / "one") if (tmp_path / "one").mkdir() is None else ""
    second = play(script, tmp_path / "two") if (tmp_path / "two").mkdir() is None else ""
    assert first == second
    assert "Goed nieuws! Kees helpt je" in first
