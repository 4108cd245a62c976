import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.clause("CARD-1")
def test_terms_coverage_document_is_current():
    """docs/terms-coverage.md must match the clause catalogue, the clause map and the tests' markers."""
    result = subprocess.run([sys.executable, "scripts/terms_coverage.py", "--check"], cwd=ROOT)
    assert result.returncode == 0, "docs/terms-coverage.md is stale: run python scripts/terms_coverage.py"


@pytest.mark.clause("CARD-1")
def test_design_card_layout():
    for path in ["rxconfig.py", "pyproject.toml", "storefront/storefront.py", "storefront/pages", "storefront/state",
                 "assets", "tests", "alembic/versions", "README.md", ".ci/run"]:
        assert (ROOT / path).exists(), path
    assert "make test" in (ROOT / ".ci/run").read_text()
