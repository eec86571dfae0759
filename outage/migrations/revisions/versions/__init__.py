"""One file per schema change, each naming the one before it (`down_revision`)."""
