"""The storage layer: every table belongs to one module here, and no SQL runs anywhere else.

- `incidents`: incidents (`events`, `event_reconnections`, `incident_numbers`,
  `held_alerts`), the offline state, alarm drops, place population and rates, `meta`;
- `cycles`: poll cycles, the poller lease, the heartbeat, alarm health;
- `outbox`: the outbox and WhatsApp delivery statuses;
- `hsm`: HSM decisions, recipients, cooldowns and phone notices;
- `users`: users, sessions and the login throttle;
- `copy`: every table at once, from a SQLite file into a new PostgreSQL database.

Storage modules import only the standard library, `outage.core`, `outage.db` and each other;
`copy` also drives PostgreSQL itself (psycopg) and the schema's migrations.
The tables themselves (schema and migrations, SQLite and PostgreSQL) are `outage.migrations`.
"""
