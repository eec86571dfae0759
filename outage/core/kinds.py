"""Kinds of outbox row: the NOC alerts the detector decides to tell, and the customer notice,
as the outbox stores them in `kind`.

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

# Kind of the per-customer WhatsApp rows written by the HSM dispatch console. Payload:
# {"to": "5511987654321", "nome": "...", "template": "114" | "queda_massiva_los",
#  "params": ["...", ...]} -- one row per phone, row channel `whatsapp_cloud` or `hsm`.
CUSTOMER_TEMPLATE = "hsm_cliente"
