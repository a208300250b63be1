"""Tick labels that fit side by side on a horizontal axis.

Imports matplotlib: import this module only while plotting.
"""

import re

import matplotlib as mpl
import numpy as np
from matplotlib.font_manager import FontProperties
from matplotlib.ticker import MaxNLocator

# Widths in font sizes, from DejaVu Sans (matplotlib's default font), rounded
# up so that other sans fonts fit too: digits are 0.64 wide, the minus 0.84.
_CHAR_WIDTH = {"−": 0.85, "-": 0.85, ".": 0.35, ",": 0.35, " ": 0.35}
_DEFAULT_CHAR_WIDTH = 0.65
# The free space kept between two neighbouring labels, in font sizes.
_GAP = 1.0
_MATHTEXT = re.compile(r"\$|\\mathdefault\{|\}|\\")


def _label_width(label):
    """The width of a tick label in font sizes, estimated from its text."""
    text = _MATHTEXT.sub("", label)
    return sum(_CHAR_WIDTH.get(char, _DEFAULT_CHAR_WIDTH) for char in text)


class ReadableLocator(MaxNLocator):
    """Nice ticks (steps of 1, 2 or 5) whose labels fit between each other.

    ``MaxNLocator(nbins="auto")`` assumes labels at most three font sizes
    wide; scores on a narrow range (-0.08125, -0.08100, ...) are twice
    that, so that the labels ran into each other in a narrow panel. This
    locator lowers the number of bins until the labels, formatted as the
    axis formats them, leave a gap between neighbours on the axis's current
    width; where no two labels fit, one tick is labelled. Steps of 2.5 are
    left out: they need one more digit.

    Parameters
    ----------
    max_bins : int, default=6
        The most intervals between ticks.
    """

    def __init__(self, max_bins=6):
        super().__init__(nbins=max_bins, steps=[1, 2, 5, 10])
        self.max_bins = max_bins

    def tick_values(self, vmin, vmax):
        if self.axis is None:
            return super().tick_values(vmin, vmax)
        length = self._axis_length_points()
        fontsize = self._fontsize()
        tries = [(nbins, 2) for nbins in range(self.max_bins, 0, -1)] + [(1, 1)]
        for nbins, min_n_ticks in tries:
            self.set_params(nbins=nbins, min_n_ticks=min_n_ticks)
            ticks = super().tick_values(vmin, vmax)
            if self._fits(ticks, vmin, vmax, length=length, fontsize=fontsize):
                break
        return ticks

    def _axis_length_points(self):
        axes = self.axis.axes
        return axes.bbox.width * 72.0 / axes.figure.dpi

    def _fontsize(self):
        try:
            return self.axis.majorTicks[0].label1.get_fontsize()
        except (AttributeError, IndexError):
            return FontProperties(size=mpl.rcParams["xtick.labelsize"]).get_size()

    def _fits(self, ticks, vmin, vmax, *, length, fontsize):
        low, high = min(vmin, vmax), max(vmin, vmax)
        shown = np.asarray([t for t in ticks if low <= t <= high])
        if shown.size < 2 or high <= low:
            return True
        labels = self.axis.get_major_formatter().format_ticks(shown)
        widths = np.array([_label_width(label) for label in labels]) * fontsize
        # Labels are centred on their ticks.
        spacing = np.diff(shown) / (high - low) * length
        needed = (widths[:-1] + widths[1:]) / 2.0 + _GAP * fontsize
        return bool(np.all(spacing >= needed))


def use_readable_ticks(axis, max_bins=6):
    """Give a horizontal ``axis`` a :class:`ReadableLocator`."""
    axis.set_major_locator(ReadableLocator(max_bins))
