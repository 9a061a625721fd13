"""python3 -m headspec summary|plot ... (see --help)."""
from .cli import main

raise SystemExit(main())
