"""headspec: read headspec results files as a table, labelled arrays and figures.

    import headspec
    r = headspec.open_results("results/demo.h5")
    r.points                                  # pandas DataFrame, one row per point
    r.array("sgd/test_loss")                  # xarray: (swept keys..., time)
    r.point(3)                                # dict of everything about point 3

Command line: python3 -m headspec summary|plot ... (python3 -m headspec --help).
Needs h5py, numpy, pandas, xarray, matplotlib (Debian: python3-h5py
python3-numpy python3-pandas python3-xarray python3-matplotlib).
"""
from .results import FormatError, Results, open_results, SUPPORTED_FORMATS
from . import derived

__version__ = "0.2.0"
__all__ = ["open_results", "Results", "FormatError", "SUPPORTED_FORMATS", "derived"]
