"""ruff's security rules (flake8-bandit, `S`) stay on for the whole code base: only `assert`
(how pytest states expectations) is let through everywhere, and tests may hold fixed passwords
and pseudo-random numbers."""

import tomllib
from pathlib import Path

CONFIG = tomllib.loads((Path(__file__).resolve().parent.parent / "pyproject.toml").read_text())
LINT = CONFIG["tool"]["ruff"]["lint"]


def test_the_security_rules_are_selected():
    assert "S" in LINT["select"]


def test_no_security_rule_is_switched_off_beyond_assert():
    assert [code for code in LINT.get("ignore", []) if code.startswith("S")] == ["S101"]
    for files, codes in LINT.get("per-file-ignores", {}).items():
        security = {code for code in codes if code.startswith("S")}
        assert files.startswith("tests/") or not security, f"{files} switches off {security}"
