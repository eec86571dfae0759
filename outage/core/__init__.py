"""The core: plain domain logic that imports only the standard library and `outage.core`.

The subscriber model (`model`), places (`place`), learned churn rates (`rates`), drop
times (`droptime`), local time (`localtime`), the detector (`detector`) and the kinds of
NOC alert (`kinds`). Nothing here does I/O or reads a clock; nothing here imports the rest
of the package (`tests/test_layers.py` holds that).
"""
