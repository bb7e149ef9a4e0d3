"""Data Docs' Jinja templates are compiled once and kept in the GX project
(expectations.data_docs_offline: GX makes new views, hence new Jinja environments, at every
build, and production runs each night's checks in a process of its own), and what the kept
bytecode gives is what a fresh compile gives."""

from __future__ import annotations

import re
import types
from pathlib import Path
from typing import Any

from expectations.data_docs_offline import OfflineIndexPageView, OfflinePageView

# GX's collapse.j2 calls its ``generate_html_element_uuid`` filter on constants, which Jinja
# folds at compile time: every compile has its own element ids (already shared by all the
# pages of one build; now by every build until the template changes).
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


def test_a_new_view_takes_its_templates_from_the_kept_bytecode_unchanged(tmp_path: Path) -> None:
    kept = str(tmp_path / "templates")
    for view_class in (OfflinePageView, OfflineIndexPageView):
        first = view_class(bytecode_directory=kept)
        names = sorted(n for n in first.env.list_templates() if n.endswith(".j2"))
        assert "page.j2" in names and len(names) > 20
        compiled = _compiled(first, names)  # compiled, its bytecode written

        def no_compile(*args: Any, **kwargs: Any) -> None:
            raise AssertionError("compiled again")

        cached = view_class(bytecode_directory=kept)  # as GX makes at the next build or process
        cached.env.compile = no_compile
        assert _compiled(cached, names) == compiled
        fresh = view_class()  # no kept bytecode: compiled from the source
        again = _compiled(fresh, names)
        assert [n for n in names if again[n] != compiled[n]] == ["collapse.j2"]
        assert {n: _without_uuids(c) for n, c in again.items()} == {
            n: _without_uuids(c) for n, c in compiled.items()
        }
    assert len(list((tmp_path / "templates").glob("__jinja2_*.cache"))) >= len(names)


def test_a_changed_template_is_compiled_again(tmp_path: Path) -> None:
    from jinja2 import DictLoader

    kept = str(tmp_path / "templates")
    view = OfflinePageView(bytecode_directory=kept)
    view.env.loader = DictLoader({"t.j2": "one"})
    assert view.env.get_template("t.j2").render() == "one"
    again = OfflinePageView(bytecode_directory=kept)
    again.env.loader = DictLoader({"t.j2": "two"})
    assert again.env.get_template("t.j2").render() == "two"
