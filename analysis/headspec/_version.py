"""The release: VERSION beside this file (in the checkout a link to the top
VERSION, which the C tool's build reads too: one number for both)."""
import os

with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "VERSION")) as _f:
    __version__ = _f.read().strip()
