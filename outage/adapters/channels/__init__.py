"""Message channels: one module per provider behind the `Channel` contract (see `base.py`)."""
