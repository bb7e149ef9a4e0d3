"""Which GLPI ticket a message continues, found as GLPI's mail collector finds it (issue 13,
item 6): a GLPI Message-ID in In-Reply-To, then References, then the subject pattern
``\\[.+#(\\d+)\\]``; landed in clear as ``glpi_ticket_id`` (a ticket number, no identity)."""

from __future__ import annotations

import pytest

from connectors.email.headers import parse_headers


def _msg(*lines: str) -> bytes:
    return ("\r\n".join(("From: Jeanne <jeanne@exemple.fr>", *lines)) + "\r\n\r\nx").encode()


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (("Subject: RE: [GLPI #0000101] Nouveau ticket",), 101),
        (("Subject: =?UTF-8?Q?TR=C2=A0:_[GLPI_#0000102]_Suivi?=",), 102),  # encoded word
        (("Subject: [Mairie de Vigie #0000103] Ticket résolu",), 103),  # renamed tag
        # greedy as GLPI's PCRE pattern: the last "#digits]" of the bracketed span wins
        (("Subject: [GLPI #0000104] RE: [Ext #7] suivi",), 7),
        (("In-Reply-To: <GLPI_5f2a9c1e0b7d4-Ticket-105.1795424400.1234567@glpi.mairie.fr>",
          "Subject: [GLPI #0000999] headers first"), 105),
        (("References: <a@exemple.fr> <GLPI-Ticket-106.1600000000.42@glpi>",), 106),  # GLPI 9.x
        (("In-Reply-To: <GLPI_ab12-Change-5.1@glpi>", "Subject: Re: changement"), None),
        (("Subject: Dossier #123 en cours",), None),  # no brackets
        (("Subject: [GLPI] information",), None),
    ],
)  # fmt: skip
def test_glpi_ticket_reference(lines: tuple[str, ...], expected: int | None) -> None:
    assert parse_headers(_msg(*lines)).glpi_ticket_id == expected
