"""Made-up people of the demo: citizens' phone numbers and addresses, agents' names and logins.

Everything derives from the seeded random generator handed in, so the same seed gives the same
people. Phone numbers come from blocks that cannot reach a real subscriber (see
DECISIONLOG.md): the fixed-line and 06 blocks set aside for fiction, and for
07 the 07 00 block, which only holds 14-digit machine-to-machine numbers, so a 10-digit
"07 00 .." number is unassignable. Addresses use made-up local parts with a number suffix.
"""

from __future__ import annotations

import random
import unicodedata

FIRST_NAMES = (
    "Marie", "Jean", "Nathalie", "Pierre", "Isabelle", "Michel", "Sylvie", "Philippe", "Catherine",
    "Alain", "Christine", "Nicolas", "Sandrine", "Laurent", "Valérie", "Stéphane", "Céline",
    "Julien", "Aurélie", "Thomas", "Camille", "Léa", "Hugo", "Chloé", "Lucas", "Manon", "Émilie",
    "Mathieu", "Océane", "Kévin", "Inès", "Yasmine", "Mehdi", "Fatou", "Hélène", "François",
)
LAST_NAMES = (
    "Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
    "Moreau", "Simon", "Laurent", "Lefèvre", "Michel", "Garcia", "David", "Bertrand", "Roux",
    "Vincent", "Fournier", "Morel", "Girard", "André", "Mercier", "Dupont", "Lambert", "Bonnet",
    "François", "Martinez", "Legrand", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller",
    "Henry", "Roussel", "Nicolas", "Perrin", "Mathieu", "Clément", "Gauthier", "Dumont", "Lopez",
)
CITIZEN_DOMAINS = ("gmail.com", "orange.fr", "free.fr")
# (prefix, weight): fiction blocks for 01-06, the unassignable 10-digit 07 00 block for 07.
_PHONE_BLOCKS = (
    ("0199 00", 1), ("0261 91", 1), ("0353 01", 1), ("0465 71", 1), ("0536 49", 3),
    ("0639 98", 6), ("0700 00", 4),
)


def ascii_slug(text: str) -> str:
    """'Hélène Lefèvre' -> 'helene.lefevre' (for addresses and logins)."""
    norm = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return ".".join(p for p in norm.lower().replace("'", " ").split() if p)


def person_name(rng: random.Random) -> tuple[str, str]:
    """(first name, last name)."""
    return rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)


def phone_number(rng: random.Random) -> str:
    """A 10-digit French number that no subscriber holds, e.g. '0639981234'."""
    prefix = rng.choices([p for p, _ in _PHONE_BLOCKS], weights=[w for _, w in _PHONE_BLOCKS])[0]
    return prefix.replace(" ", "") + f"{rng.randrange(10000):04d}"


def citizen_address(rng: random.Random, first: str, last: str) -> str:
    """'marie.dupont.4821@orange.fr' (made-up local part with a number suffix)."""
    return f"{ascii_slug(first)}.{ascii_slug(last)}.{rng.randrange(1000, 10000)}@{rng.choice(CITIZEN_DOMAINS)}"


class CitizenPool:
    """A fixed population of citizens, some of whom come back (repeat contacts are realistic).

    ``pick`` draws from a small "regulars" group with some probability, else from the rest.
    """

    def __init__(self, rng: random.Random, size: int) -> None:
        self.rng = rng
        self.people: list[tuple[str, str, str, str]] = []  # first, last, phone, email
        seen_phone: set[str] = set()
        seen_mail: set[str] = set()
        while len(self.people) < size:
            first, last = person_name(rng)
            phone = phone_number(rng)
            mail = citizen_address(rng, first, last)
            if phone in seen_phone or mail in seen_mail:
                continue
            seen_phone.add(phone)
            seen_mail.add(mail)
            self.people.append((first, last, phone, mail))
        self.regulars = max(1, size // 20)

    def pick(self) -> tuple[str, str, str, str]:
        if self.rng.random() < 0.15:
            return self.people[self.rng.randrange(self.regulars)]
        return self.people[self.rng.randrange(len(self.people))]
