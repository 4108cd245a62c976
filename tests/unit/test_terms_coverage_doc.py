import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED_CLAUSES = ROOT.parent / "shared" / "clauses.md"


def test_terms_coverage_document_is_current():
    """docs/terms-coverage.md must match the clause catalogue, the clause map and the tests' markers."""
    result = subprocess.run([sys.executable, "scripts/terms_coverage.py", "--check"], cwd=ROOT)
    assert result.returncode == 0, "docs/terms-coverage.md is stale: run python scripts/terms_coverage.py"


@pytest.mark.skipif(not SHARED_CLAUSES.exists(), reason="no ../shared beside this clone: the project copy stands alone")
def test_clause_catalogue_copy_matches_the_shared_one():
    """docs/clauses.md is a byte-identical copy of ../shared/clauses.md; copy it again when the shared one changes."""
    assert (ROOT / "docs" / "clauses.md").read_bytes() == SHARED_CLAUSES.read_bytes()


@pytest.mark.clause("CARD-1")
def test_design_card_layout():
    for path in ["rxconfig.py", "pyproject.toml", "storefront/storefront.py", "storefront/pages", "storefront/state",
                 "assets", "tests", "alembic/versions", "README.md", ".ci/run"]:
        assert (ROOT / path).exists(), path
    assert "make test" in (ROOT / ".ci/run").read_text()
