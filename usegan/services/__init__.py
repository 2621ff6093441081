"""App services the Streamlit pages call (no Streamlit here, so every piece is testable on its own).

* :mod:`.service` - the case service: open a case, generate (cached), propose a score, build the report.
* :mod:`.templates` - conclusion templates per organ.
* :mod:`.intake` - new cases from uploads (PNG/JPEG/DICOM, crop suggestion) and bundled samples.
* :mod:`.audit` - proposed vs confirmed agreement: confusion matrix, quadratic-weighted kappa, over time, and
  model versions compared on the same cases.
* :mod:`.dicom` - the review page's DICOM send-back and the admins' quarantine view.
* :mod:`.compare` - virtual vs real elastogram (SSIM).
* :mod:`.model_catalog` - which checkpoints exist and which one is active per mode.
* :mod:`.reporting` - the PDF report of a reviewed case, archived in the store.
* :mod:`.teaching` - the phantom lab and quiz (writes nothing to the clinical store).

Display helpers (image blending, plotly figures, canvas ROIs) live in :mod:`usegan.ui`.
"""
