"""The data floor: user time-series objects -> padded float32 arrays, lengths and masks.

No torch here, and sktime is imported lazily (only to read "pd-multiindex" frames).

- :class:`Panel` — values (n_samples, n_channels, n_timepoints) float32, lengths,
  missing mask, channel names;
- :func:`to_panel` — validate and convert any supported input to a Panel;
- :func:`from_long` / :func:`long_targets` — long frames to one row per series (and its
  targets), so that scikit-learn can split them;
- :class:`ChannelScaler` — per-channel standardisation over observed values;
- :func:`standardise_series` — each series and channel by its own statistics.
"""

from sslearn.data._convert import to_panel
from sslearn.data._long import from_long, long_targets
from sslearn.data._panel import Panel
from sslearn.data._scale import ChannelScaler, standardise_series

__all__ = ["ChannelScaler", "Panel", "from_long", "long_targets", "standardise_series", "to_panel"]
