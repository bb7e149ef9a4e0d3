"""Telephony connectors: Asterisk queue_log and CDR (Master.csv)."""
