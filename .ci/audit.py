"""pip-audit over the pinned requirements, saying plainly what it could and could not check.

pip-audit asks an advisory source about each pinned version: PyPI's JSON API first, then OSV.
Where neither answers for a package (no network, a mirror without the JSON API), pip-audit only
skips it and still prints "No known vulnerabilities found"; this says instead how many packages
were audited at all. Exit status: 1 when a known vulnerability is found, else 0, also when
nothing could be audited (CI then prints NOT AUDITED and goes on: the machine cannot know)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIP_AUDIT = Path(sys.executable).with_name("pip-audit")
REQUIREMENTS = ["requirements.txt", "requirements-dev.txt"]
SERVICES = ["pypi", "osv"]


def audit(service: str) -> dict | None:
    command = [str(PIP_AUDIT), "--no-deps", "--disable-pip", "--progress-spinner", "off"]
    for requirements in REQUIREMENTS:
        command += ["-r", str(ROOT / requirements)]
    command += ["--vulnerability-service", service, "--format", "json", "--timeout", "20"]
    # A fixed argument list of our own (no shell, no outside input).
    done = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, timeout=600, check=False
    )
    try:
        return json.loads(done.stdout)
    except json.JSONDecodeError:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        print(f"pip-audit ({service}): no answer ({last[:200]})")
        return None


def main() -> int:
    for service in SERVICES:
        report = audit(service)
        if report is None:
            continue
        dependencies = report["dependencies"]
        audited = [dep for dep in dependencies if "skip_reason" not in dep]
        if not audited:
            print(f"pip-audit ({service}): the advisory source answered for no package.")
            continue
        skipped = [dep for dep in dependencies if "skip_reason" in dep]
        vulnerable = [dep for dep in audited if dep["vulns"]]
        print(
            f"pip-audit ({service}): {len(audited)} pinned packages audited, "
            f"{len(skipped)} not found by the advisory source, {len(vulnerable)} vulnerable."
        )
        for dep in skipped:
            print(f"  not audited: {dep['name']}")
        for dep in vulnerable:
            for vuln in dep["vulns"]:
                fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed version yet"
                name = f"{dep['name']} {dep['version']}"
                print(f"  VULNERABLE {name}: {vuln['id']} (fixed in {fixed})")
        return 1 if vulnerable else 0
    print(
        "pip-audit: NOT AUDITED. No advisory source (PyPI's JSON API, OSV) can be reached from "
        "this machine, so the pinned dependencies were not checked for known vulnerabilities."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
