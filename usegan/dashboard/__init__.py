"""Helpers behind the Streamlit review dashboard (no Streamlit here, so every piece is testable on its own).

* :mod:`.roi_canvas` - streamlit-drawable-canvas JSON (rect / polygon / free-hand) -> ROIs in image pixels.
* :mod:`.overlay` - B-mode + elastogram blending, display scaling.
* :mod:`.figures` - plotly colour-distribution plots and colour bars with units.
* :mod:`.templates` - conclusion templates per organ.
* :mod:`.service` - the case service: open a case, generate (cached), propose a score, build the report.
* :mod:`.intake` - new cases from uploads (PNG/JPEG/DICOM, crop suggestion) and bundled samples.
* :mod:`.audit` - proposed vs confirmed agreement: confusion matrix, quadratic-weighted kappa, over time, and
  model versions compared on the same cases.
* :mod:`.dicom` - the review page's DICOM send-back and the admins' quarantine view.
* :mod:`.compare` - virtual vs real elastogram (SSIM).
* :mod:`.models` - which checkpoints exist and which one is active per mode.
* :mod:`.teaching` - the phantom lab and quiz (writes nothing to the clinical store).
"""
