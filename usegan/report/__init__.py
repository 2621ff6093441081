"""PDF reports (invention step S5): ``build_report(ReportData) -> bytes``; ``report_data_for_case`` fills the data
from the case store."""

from usegan.report.data import ReportData, colour_distribution
from usegan.report.fonts import FontChoice, find_font
from usegan.report.from_store import report_data_for_case, report_data_for_reading
from usegan.report.labels import VIRTUAL_LABEL_EN
from usegan.report.pdf import build_report

__all__ = [
    "FontChoice",
    "ReportData",
    "VIRTUAL_LABEL_EN",
    "build_report",
    "colour_distribution",
    "find_font",
    "report_data_for_case",
    "report_data_for_reading",
]
