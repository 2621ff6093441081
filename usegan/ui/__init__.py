"""Display helpers for the pages (no Streamlit here): what an image, a figure or a drawn ROI looks like.

* :mod:`.overlay` - B-mode + elastogram blending, ROI outlines, display scaling.
* :mod:`.figures` - plotly colour-distribution plots, colour bars with units, audit charts.
* :mod:`.roi_canvas` - streamlit-drawable-canvas JSON (rect / polygon / free-hand) -> ROIs in image pixels.
"""
