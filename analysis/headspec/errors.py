"""The errors the package raises on a file it will not read (the bottom of
the package: every module may import it, it imports none of them)."""


class FormatError(ValueError):
    """The file is not a headspec results file of a supported format."""


class GridError(FormatError):
    """The file's /grid contradicts itself or the job stored in the file."""
