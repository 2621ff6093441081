"""docs/notebooks/research_audit.ipynb runs on a fresh export (nbclient + ipykernel) and prints the same figures
the library computes: the export round-trips into the notebook."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.research_fixtures import research_archive
from tests.store_fixtures import fast_hasher_fixture, store_fixture  # noqa: F401 (pytest fixtures)
from usegan.research import kappa_ci
from usegan.research.export import export_research

NOTEBOOK = Path(__file__).resolve().parent.parent / "docs" / "notebooks" / "research_audit.ipynb"


def tagged_output(nb, tag: str) -> str:
    cell = next(c for c in nb.cells if tag in c.get("metadata", {}).get("tags", []))
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


def test_notebook_reproduces_the_audit_figures_from_an_export(store, tmp_path, monkeypatch):
    research_archive(store)
    export = export_research(store, tmp_path / "export", "parquet")
    monkeypatch.setenv("USEGAN_EXPORT", str(export))
    monkeypatch.setenv("PYTHONPATH", str(NOTEBOOK.parents[2]))  # the kernel imports this checkout's usegan
    nb = nbformat.read(NOTEBOOK, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")  # stored without outputs
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    kappa = kappa_ci([5, 4, 1, 2], [5, 5, 1, 1])  # the archive's confirmed and proposed scores
    assert kappa.text in tagged_output(nb, "kappa") and "95% CI" in kappa.text
    blinded = tagged_output(nb, "blinded")
    assert "'moved_to_proposal': 1" in blinded and "blinded" in blinded
    assert "lesion box (x, y, w, h) [10, 10, 12, 10]" in tagged_output(nb, "images")
    images = tagged_output(nb, "images")
    assert "lesion pixels 120" in images
    assert "uncertainty map (40, 48): lesion mean SD 0.050 relative strain (table: 0.050)" in images
    calibration = tagged_output(nb, "calibration")  # the stored maps: disagreement and the one known truth
    assert "disagreement" in calibration and "rms_over_uncertainty" in calibration
    assert "Spearman rho, predicted SD vs absolute error: undefined (n = 1)" in calibration
    plotly = "application/vnd.plotly.v1+json"
    figures = [o for c in nb.cells for o in c.get("outputs", []) if plotly in o.get("data", {})]
    assert len(figures) >= 6  # kappa, a confusion matrix, over time, histogram, both uncertainty calibrations


@pytest.mark.parametrize("missing", ["no-such-export"])
def test_notebook_says_when_the_export_is_missing(tmp_path, monkeypatch, missing):
    from nbclient.exceptions import CellExecutionError

    monkeypatch.setenv("USEGAN_EXPORT", str(tmp_path / missing))
    monkeypatch.setenv("PYTHONPATH", str(NOTEBOOK.parents[2]))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    with pytest.raises(CellExecutionError, match="not a usegan research export"):
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()
