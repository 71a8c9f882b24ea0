"""`make audit` (.ci/audit.py) reads pip-audit's report and says what was and was not checked:
a vulnerability fails it, an advisory source that answered for nothing is NOT AUDITED (and
does not fail). pip-audit's answers here come from a program standing in for it, since this
machine reaches no advisory source; the real pip-audit runs in CI."""

import importlib.util
import json
import stat
from pathlib import Path

import pytest

AUDIT = Path(__file__).resolve().parents[1] / ".ci" / "audit.py"


def load_audit():
    spec = importlib.util.spec_from_file_location("ci_audit", AUDIT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def answering(tmp_path, reports: dict[str, dict | None]) -> Path:
    """A pip-audit that prints `reports[service]` as JSON (None: a network error)."""
    program = tmp_path / "pip-audit"
    program.write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        f"reports = json.loads({json.dumps(json.dumps(reports))})\n"
        "service = sys.argv[sys.argv.index('--vulnerability-service') + 1]\n"
        "if reports[service] is None:\n"
        "    sys.exit('requests.exceptions.ConnectionError: Failed to resolve')\n"
        "print(json.dumps(reports[service]))\n"
        "sys.exit(1 if any(d.get('vulns') for d in reports[service]['dependencies']) else 0)\n"
    )
    program.chmod(program.stat().st_mode | stat.S_IEXEC)
    return program


SKIPPED = {"name": "django", "skip_reason": "Dependency not found on PyPI"}
CLEAN = {"name": "django", "version": "5.2.19", "vulns": []}
VULNERABLE = {
    "name": "pillow",
    "version": "12.0.0",
    "vulns": [{"id": "GHSA-xxxx-yyyy", "fix_versions": ["12.0.1"]}],
}


@pytest.fixture
def audit(monkeypatch, tmp_path):
    module = load_audit()

    def run(reports):
        monkeypatch.setattr(module, "PIP_AUDIT", answering(tmp_path, reports))
        return module.main()

    return run


def test_no_advisory_source_says_not_audited_and_does_not_fail(audit, capsys):
    status = audit({"pypi": {"dependencies": [SKIPPED]}, "osv": None})
    out = capsys.readouterr().out
    assert status == 0
    assert "NOT AUDITED" in out
    assert "answered for no package" in out


def test_a_vulnerable_pin_fails_and_is_named(audit, capsys):
    status = audit({"pypi": {"dependencies": [CLEAN, VULNERABLE]}, "osv": None})
    out = capsys.readouterr().out
    assert status == 1
    assert "VULNERABLE pillow 12.0.0: GHSA-xxxx-yyyy (fixed in 12.0.1)" in out
    assert "2 pinned packages audited" in out


def test_osv_is_asked_when_pypi_answers_for_nothing(audit, capsys):
    status = audit({"pypi": {"dependencies": [SKIPPED]}, "osv": {"dependencies": [CLEAN, SKIPPED]}})
    out = capsys.readouterr().out
    assert status == 0
    assert "pip-audit (osv): 1 pinned packages audited, 1 not found" in out
    assert "not audited: django" in out
    assert "NOT AUDITED" not in out
