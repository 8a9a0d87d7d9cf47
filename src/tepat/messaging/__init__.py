"""Messaging: every SMS Tepat sends or receives goes through this one module.

Apps send with `sms_gateway().send([(event_key, phone, body), ...])` and never name an adapter;
`TEPAT_SMS_GATEWAY` picks the simulator or the HTTP adapter (see gateway.py). Inbound messages
are verified here too (`webhook_verify`). Messaging sits below every domain app and imports none.
"""
