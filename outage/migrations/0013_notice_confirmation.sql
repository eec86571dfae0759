-- The reference Meta echoes in each status (`biz_opaque_callback_data`, "aviso:<outbox id>"):
-- a status names the customer notice it is about, even when its wamid never reached us.
ALTER TABLE whatsapp_statuses ADD COLUMN reference TEXT;
CREATE INDEX whatsapp_statuses_reference ON whatsapp_statuses (reference) WHERE reference IS NOT NULL;

-- When a customer notice became uncertain: for a while Meta's status may still settle it,
-- and until then it is not offered for a resend.
ALTER TABLE outbox ADD COLUMN uncertain_at REAL;

-- A status finds the notice that holds its wamid (a sent notice Meta then failed to deliver).
CREATE INDEX outbox_provider_message ON outbox (provider_message_id) WHERE provider_message_id IS NOT NULL;
