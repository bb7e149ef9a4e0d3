"""Data Docs' Jinja templates are compiled once per process (expectations.data_docs_offline:
GX makes new views, hence new Jinja environments, at every build), and what the process cache
gives is what a fresh compile gives."""

from __future__ import annotations

import re
import types
from typing import Any

from expectations.data_docs_offline import OfflineIndexPageView, OfflinePageView

# GX's collapse.j2 calls its ``generate_html_element_uuid`` filter on constants, which Jinja
# folds at compile time: every compile has its own element ids (already shared by all the
# pages of one build; now by all the builds of one process).
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def _without_uuids(code: types.CodeType) -> types.CodeType:
    consts = tuple(
        _without_uuids(c)
        if isinstance(c, types.CodeType)
        else _UUID.sub("<uuid>", c)
        if isinstance(c, str)
        else c
        for c in code.co_consts
    )
    return code.replace(co_consts=consts)


def _compiled(view: Any, names: list[str]) -> dict[str, types.CodeType]:
    return {name: view.env.get_template(name).root_render_func.__code__ for name in names}


def test_a_new_view_takes_its_templates_from_the_process_cache_unchanged() -> None:
    for view_class in (OfflinePageView, OfflineIndexPageView):
        first = view_class()
        names = sorted(n for n in first.env.list_templates() if n.endswith(".j2"))
        assert "page.j2" in names and len(names) > 20
        compiled = _compiled(first, names)  # kept for the process

        def no_compile(*args: Any, **kwargs: Any) -> None:
            raise AssertionError("compiled again")

        cached = view_class()  # as GX makes at the next build
        cached.env.compile = no_compile
        assert _compiled(cached, names) == compiled
        fresh = view_class()
        fresh.env.bytecode_cache = None  # compiled from the source
        again = _compiled(fresh, names)
        assert [n for n in names if again[n] != compiled[n]] == ["collapse.j2"]
        assert {n: _without_uuids(c) for n, c in again.items()} == {
            n: _without_uuids(c) for n, c in compiled.items()
        }
