"""GLPI's own tables (names, columns, types) for what Vigie reads, declared with SQLAlchemy.

Column names and their order follow GLPI 10's ``install/mysql/glpi-empty.sql`` for the tables
source-formats.md §5 lists (a representative subset of the columns of the wide tables: every
column the landing contract reads, plus the usual neighbours). MySQL types map onto what
SQLite keeps: ``int``/``tinyint`` -> INTEGER, ``varchar(255)`` -> VARCHAR(255),
``text``/``longtext`` -> TEXT, ``timestamp`` -> TIMESTAMP holding naive
``YYYY-MM-DD HH:MM:SS`` strings as MariaDB returns them (GLPI's zone: the source's
``timezone``). SQLAlchemy reflects TIMESTAMP and returns datetimes. Their indexes are created
after the rows (``connectors.ticketing.glpi_schema.create_glpi_indexes``, in ``glpi.py``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa


class GlpiTimestamp(sa.types.UserDefinedType):
    """MariaDB ``timestamp`` as GLPI stores it: naive ``YYYY-MM-DD HH:MM:SS`` text in SQLite."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "TIMESTAMP"

    def bind_processor(self, dialect: Any) -> Any:
        def process(value: Any) -> Any:
            if isinstance(value, dt.datetime):
                return value.strftime("%Y-%m-%d %H:%M:%S")
            return value

        return process


def _int(name: str, default: int | None = 0, **kw: Any) -> sa.Column:
    return sa.Column(name, sa.Integer, nullable=default is None, server_default=None if default is None
                     else sa.text(str(default)), **kw)


def _ts(name: str) -> sa.Column:
    return sa.Column(name, GlpiTimestamp(), nullable=True)


def _str(name: str) -> sa.Column:
    return sa.Column(name, sa.String(255), nullable=True)


def _text(name: str) -> sa.Column:
    return sa.Column(name, sa.Text, nullable=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


def build_metadata() -> sa.MetaData:
    md = sa.MetaData()
    sa.Table(
        "glpi_tickets", md, _id(), _int("entities_id"), _str("name"), _ts("date"), _ts("closedate"),
        _ts("solvedate"), _ts("takeintoaccountdate"), _ts("date_mod"), _int("users_id_lastupdater"),
        _int("status", 1), _int("users_id_recipient"), _int("requesttypes_id"), _text("content"),
        _int("urgency", 3), _int("impact", 3), _int("priority", 3), _int("itilcategories_id"), _int("type", 1),
        _int("global_validation", 1), _int("slas_id_ttr"), _int("slas_id_tto"), _int("slalevels_id_ttr"),
        _ts("time_to_resolve"), _ts("time_to_own"), _ts("begin_waiting_date"), _int("sla_waiting_duration"),
        _int("ola_waiting_duration"), _int("olas_id_tto"), _int("olas_id_ttr"), _int("olalevels_id_ttr"),
        _ts("ola_ttr_begin_date"), _ts("internal_time_to_resolve"), _ts("internal_time_to_own"),
        _int("waiting_duration"), _int("close_delay_stat"), _int("solve_delay_stat"),
        _int("takeintoaccount_delay_stat"), _int("actiontime"), _int("is_deleted"), _int("locations_id"),
        _int("validation_percent"), _ts("date_creation"),
    )
    sa.Table(
        "glpi_requesttypes", md, _id(), _str("name"), _int("is_helpdesk_default"), _int("is_followup_default"),
        _int("is_mail_default"), _int("is_mailfollowup_default"), _int("is_active", 1), _int("is_ticketheader", 1),
        _int("is_itilfollowup", 1), _text("comment"), _ts("date_mod"), _ts("date_creation"),
    )
    sa.Table(
        "glpi_groups", md, _id(), _int("entities_id"), _int("is_recursive"), _str("name"), _text("comment"),
        _str("ldap_field"), _str("ldap_value"), _text("ldap_group_dn"), _ts("date_mod"), _int("groups_id"),
        _text("completename"), _int("level"), _text("ancestors_cache"), _text("sons_cache"),
        _int("is_requester", 1), _int("is_watcher", 1), _int("is_assign", 1), _int("is_task", 1),
        _int("is_notify", 1), _int("is_itemgroup", 1), _int("is_usergroup", 1), _int("is_manager", 1),
        _ts("date_creation"),
    )
    sa.Table(
        "glpi_itilcategories", md, _id(), _int("entities_id"), _int("is_recursive"), _int("itilcategories_id"),
        _str("name"), _text("completename"), _text("comment"), _int("level"), _int("knowbaseitemcategories_id"),
        _int("users_id"), _int("groups_id"), _str("code"), _text("ancestors_cache"), _text("sons_cache"),
        _int("is_helpdeskvisible", 1), _int("tickettemplates_id_incident"), _int("tickettemplates_id_demand"),
        _int("is_incident", 1), _int("is_request", 1), _int("is_problem", 1), _int("is_change", 1),
        _ts("date_mod"), _ts("date_creation"),
    )
    sa.Table(
        "glpi_users", md, _id(), _str("name"), _str("phone"), _str("realname"), _str("firstname"),
        _int("locations_id"), _str("language"), _int("is_active", 1), _int("auths_id"), _int("authtype"),
        _ts("last_login"), _ts("date_mod"), _int("is_deleted"), _int("profiles_id"), _int("entities_id"),
        _ts("date_creation"),
    )
    sa.Table("glpi_groups_tickets", md, _id(), _int("tickets_id"), _int("groups_id"), _int("type", 1))
    sa.Table(
        "glpi_tickets_users", md, _id(), _int("tickets_id"), _int("users_id"), _int("type", 1),
        _int("use_notification", 1), _str("alternative_email"),
    )
    sa.Table(
        "glpi_itilfollowups", md, _id(), sa.Column("itemtype", sa.String(100), nullable=False),
        _int("items_id"), _ts("date"), _int("users_id"), _int("users_id_editor"), _text("content"),
        _int("is_private"), _int("requesttypes_id"), _ts("date_mod"), _ts("date_creation"),
        _int("timeline_position"), _int("sourceitems_id"), _int("sourceof_items_id"),
    )
    sa.Table(
        "glpi_tickettasks", md, _id(), _str("uuid"), _int("tickets_id"), _int("taskcategories_id"), _ts("date"),
        _int("users_id"), _int("users_id_editor"), _text("content"), _int("is_private"), _int("actiontime"),
        _ts("begin"), _ts("end"), _int("state", 1), _int("users_id_tech"), _int("groups_id_tech"),
        _ts("date_mod"), _ts("date_creation"), _int("tasktemplates_id"), _int("timeline_position"),
        _int("sourceitems_id"),
    )
    sa.Table(
        "glpi_itilsolutions", md, _id(), sa.Column("itemtype", sa.String(100), nullable=False),
        _int("items_id"), _int("solutiontypes_id"), _str("solutiontype_name"), _text("content"),
        _ts("date_creation"), _ts("date_mod"), _ts("date_approval"), _int("users_id"), _str("user_name"),
        _int("users_id_editor"), _int("users_id_approval"), _str("user_name_approval"), _int("status", 1),
        _int("itilfollowups_id", None),
    )
    sa.Table(
        "glpi_ticketsatisfactions", md, _id(), _int("tickets_id"), _int("type", 1), _ts("date_begin"),
        _ts("date_answered"), _int("satisfaction", None), _text("comment"),
    )
    sa.Table(
        "glpi_logs", md, _id(), sa.Column("itemtype", sa.String(100), nullable=False), _int("items_id"),
        sa.Column("itemtype_link", sa.String(100), nullable=False, server_default=sa.text("''")),
        _int("linked_action"), _str("user_name"), _ts("date_mod"), _int("id_search_option"),
        _str("old_value"), _str("new_value"),
    )
    return md
