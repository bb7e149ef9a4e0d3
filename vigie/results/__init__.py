"""Results published to citizens and auditors (issue 15).

- ``figures``: a period's figures per service, commitment and month, from the BI snapshot
  (history first, then the marts);
- ``wording``: plain French sentences and the one small-cell rule;
- ``render``: the Jinja environment (``templates/``) and ``html_to_pdf`` (WeasyPrint);
- ``page``: ``vigie results`` -> ``index.html``, ``affiche.pdf``, ``resultats.csv``;
- ``opendata``: the Services Publics+-shaped CSV and its Table Schema.

Only aggregates leave: no request reference, no citizen key (DECISIONLOG Part 9).
"""
