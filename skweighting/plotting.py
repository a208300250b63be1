"""Display objects that plot what a sparse-attention ensemble learned.

The classes follow scikit-learn's Display convention: a Display holds the
data to plot; ``from_estimator`` builds one from a fitted estimator (or a
fitted Pipeline ending in one, or a fitted search over either) and plots it;
``plot`` draws on given or new Axes, stores the Axes, the Figure and the
artists as attributes ending in ``_`` and returns the Display.

matplotlib is imported only when plotting, so this module (and the
package) imports without it. Install it with ``pip install "skweighting[plot]"``.
"""

from ._plot.attention import AttentionDisplay
from ._plot.frontier import FrontierDisplay
from ._plot.temperature_path import TemperaturePathDisplay

__all__ = ["AttentionDisplay", "FrontierDisplay", "TemperaturePathDisplay"]
