"""Outbound channels: where Vigie's digests leave the house (SMTP, or an outbox of .eml files)."""
