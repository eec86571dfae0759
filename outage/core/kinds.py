"""Kinds of NOC alert: what the detector decides to tell, and what the outbox stores in `kind`.

The payload of each is described in `outage/adapters/channels/messages.py`.
"""

from __future__ import annotations

OPENING = "abertura"
RECURRENCE = "recorrencia"
GROWTH = "crescimento"
CAUSE = "causa"
NORMALIZATION = "normalizacao"
SUMMARY = "resumo"
KINDS = (OPENING, RECURRENCE, GROWTH, CAUSE, NORMALIZATION, SUMMARY)
