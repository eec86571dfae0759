"""The HSM dispatch console: incidents, enrichment, approval, flap damping, audit.

- `incidents`: open incidents from the OLT management system and the monitor's events;
- `enrich`: each incident's customers with name and phone (bounded pool, batched ERP reads);
- `phones`: normalization to `55` + DDD + number, masking for logs;
- `dispatch`: approve / deny in one transaction (idempotent), cooldown, per-phone 24 h rule;
- `delivery`: the approval's fast path through the outbox rows it wrote;
- `history`: the audit trail as JSON rows or CSV.

The routes are in `outage/web/hsm_console.py`.
"""
