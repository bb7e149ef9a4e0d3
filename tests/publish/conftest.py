"""Make H5's shared test builders (tests/expectations/h5_builders.py) importable.

The suite runs with ``--import-mode=importlib``, which does not put test directories on
sys.path; the builders are plain helpers shared by tests/expectations, tests/alerts and
tests/publish.
"""

import sys
from pathlib import Path

_BUILDERS = str(Path(__file__).resolve().parents[1] / "expectations")
if _BUILDERS not in sys.path:
    sys.path.insert(0, _BUILDERS)
