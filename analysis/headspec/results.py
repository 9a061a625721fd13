"""The reader's former module name, kept for code that imports from it:
headspec.reader reads the files, headspec.legacy the older ones."""
from .checks import FormatError, GridError  # noqa: F401
from .legacy import discrete_mean, mean_feature  # noqa: F401
from .reader import (BOOKKEEPING, STATUS_NAMES, SUPPORTED_FORMATS, Results,  # noqa: F401
                     open_results)
