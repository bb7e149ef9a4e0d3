"""Seeded fuzz campaign over every file connector (issue 17): ``test_fuzz_connectors.py`` runs a
few hundred variants in CI, ``make fuzz`` (``python -m tests.fuzz.campaign``) thousands."""
