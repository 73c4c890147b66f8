"""Per-customer sentiment trajectory: EW level, windowed slope and a decline detector (streaming)."""

from ._ewmean import EWMean
from ._page_hinkley import PageHinkley
from ._slope import Slope, SlopeFit
from ._time import DAY, WEEK, from_epoch, iso_date, iso_time, to_epoch
from ._trajectory import Trajectory, Trend

__all__ = [
    "DAY",
    "WEEK",
    "EWMean",
    "PageHinkley",
    "Slope",
    "SlopeFit",
    "Trajectory",
    "Trend",
    "from_epoch",
    "iso_date",
    "iso_time",
    "to_epoch",
]
