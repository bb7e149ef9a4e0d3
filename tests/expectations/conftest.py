"""Make H5's shared test builders (tests/expectations/h5_builders.py) and the headless Chromium
helper (tests/alerts/headless_chromium.py) importable.

The suite runs with ``--import-mode=importlib``, which does not put test directories on
sys.path; the builders are plain helpers shared by tests/expectations, tests/alerts and
tests/publish.
"""

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
for _helpers in (str(_TESTS / "expectations"), str(_TESTS / "alerts")):
    if _helpers not in sys.path:
        sys.path.insert(0, _helpers)
