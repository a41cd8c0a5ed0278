"""Known vulnerabilities in the pinned dependencies: pip-audit against requirements.lock.

    .venv/bin/python scripts/audit_dependencies.py        (or: make audit; CI runs it)

Exits 1 when pip-audit finds a vulnerability, printing each with the versions that fix it.
pip-audit asks PyPI's JSON API about each pinned version; where that API cannot be reached
(some networks mirror only the package index) a package is not audited. That is said
loudly, never passed off as clean: with --strict (or AUDIT_STRICT=1) it fails the run too.

The lock pins every package, so pip-audit reads it as it is (--no-deps --disable-pip)
instead of installing all of it into a virtual environment of its own first.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main():
    strict = "--strict" in sys.argv or os.environ.get("AUDIT_STRICT") == "1"
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("pip-audit")),
            *("-r", str(ROOT / "requirements.lock")),
            *("--progress-spinner", "off", "--format", "json", "--no-deps", "--disable-pip"),
        ],
        capture_output=True,
        text=True,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        print(result.stdout + result.stderr, file=sys.stderr)
        return 2
    dependencies = report["dependencies"]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    for dependency in vulnerable:
        for vulnerability in dependency["vulns"]:
            fixed = ", ".join(vulnerability["fix_versions"]) or "no fixed version yet"
            print(
                f"VULNERABLE {dependency['name']} {dependency['version']}: "
                f"{vulnerability['id']} (fixed in {fixed})"
            )
    audited = len(dependencies) - len(skipped)
    print(
        f"pip-audit: {len(dependencies)} pinned packages, {audited} audited, "
        f"{len(vulnerable)} with known vulnerabilities, {len(skipped)} not audited"
    )
    if skipped:
        names = ", ".join(d["name"] for d in skipped)
        print(
            f"WARNING: NOT AUDITED (PyPI's vulnerability data could not be reached for them): "
            f"{names}",
            file=sys.stderr,
        )
    if vulnerable or (skipped and strict):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
