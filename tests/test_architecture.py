"""The import rules of the code base, checked with import-linter on every run.

- Apps are layers: ``config`` on top, then ``disclosure`` > ``voting`` > ``proposals`` >
  ``council``. A lower app never imports a higher one, directly or through other modules.
- A selector (``<app>.selectors`` and every module under it) never imports a service
  (``<app>.services`` and every module under it), of its own app or another, directly or through
  any chain of imports.
"""

import configparser
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ["config", "disclosure", "voting", "proposals", "council"]  # highest first

CONTRACTS = {
    "layers": {
        "name": "A lower app never imports a higher one",
        "type": "layers",
        "layers": APPS,
    },
    "selectors": {
        "name": "A selector never imports a service",
        "type": "forbidden",
        "source_modules": ["*.selectors"],  # and every module under one (as_packages)
        "forbidden_modules": ["*.services"],
    },
}


def _write_config(path: Path) -> None:
    """Write the contracts as an import-linter configuration file (INI)."""
    config = configparser.ConfigParser()
    config["importlinter"] = {"root_packages": "\n".join(APPS)}
    for key, contract in CONTRACTS.items():
        config[f"importlinter:contract:{key}"] = {
            name: "\n".join(value) if isinstance(value, list) else value
            for name, value in contract.items()
            if value
        }
    with path.open("w") as file:
        config.write(file)


def test_imports_follow_the_layers_and_selectors_import_no_service(tmp_path):
    config = tmp_path / "importlinter.ini"
    _write_config(config)
    lint = subprocess.run(
        [Path(sys.executable).parent / "lint-imports", config, "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert f"Contracts: {len(CONTRACTS)} kept, 0 broken." in lint.stdout, lint.stdout


def test_apps_record_evidence_through_evidence_record_alone():
    """Every app records an act with ``council.evidence.evidence_record``, which names the
    actor's role by one rule (``acting_role``); only the evidence package calls the writer
    below it, ``evidence_append``, which records whatever role it is given."""
    writer = re.compile(r"\bevidence_append\b\s*\(|import[^\n]*\bevidence_append\b")
    evidence = ROOT / "council" / "evidence"
    callers = [
        str(path.relative_to(ROOT))
        for app in APPS
        for path in sorted((ROOT / app).rglob("*.py"))
        if evidence not in path.parents and writer.search(path.read_text())
    ]
    assert callers == []
