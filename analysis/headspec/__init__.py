"""headspec: read headspec results files as a table, labelled arrays and figures.

    import headspec
    r = headspec.open_results("results/demo.h5")
    r.points                                  # pandas DataFrame, one row per point
    r.array("sgd/test_loss")                  # xarray: (swept keys..., time)
    r.point(3)                                # dict of everything about point 3
    from headspec.kinds import plot
    plot(r, "vs", "vs.png", x="H")            # a figure kind (matplotlib Figure)

A file whose /grid contradicts itself or its job is refused (GridError,
see headspec.checks); a damaged one (DamagedError, headspec.integrity). Command line: python3 -m headspec summary|plot ...
(python3 -m headspec --help). Needs h5py, h5netcdf, numpy, pandas, xarray,
yaml, matplotlib (Debian: python3-h5py python3-h5netcdf python3-numpy
python3-pandas python3-xarray python3-yaml python3-matplotlib).
"""
from .checks import FormatError, GridError
from .integrity import DamagedError
from .reader import Results, open_results, SUPPORTED_FORMATS
from . import basis_free, derived, integrity
from ._version import __version__

__all__ = ["open_results", "Results", "FormatError", "GridError", "DamagedError",
           "SUPPORTED_FORMATS", "derived"]
