"""Make the shared test builders importable: H5's (tests/expectations/h5_builders.py) and the
audit report's small site (tests/results/audit_site.py).

The suite runs with ``--import-mode=importlib``, which does not put test directories on
sys.path.
"""

import sys
from pathlib import Path

for _dir in (Path(__file__).resolve().parents[1] / "expectations", Path(__file__).resolve().parent):
    if str(_dir) not in sys.path:
        sys.path.insert(0, str(_dir))
