"""Alembic environment: runs migrations against the URL handed over by ``db.migrate``."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from db.models import Base
from db.session import make_engine
from triage.settings import Settings

config = context.config
target_metadata = Base.metadata
# Tables owned by libraries (APScheduler's job store) are not ours to create or drop.
FOREIGN_TABLES = frozenset({"apscheduler_jobs"})


def include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    return not (type_ == "table" and name in FOREIGN_TABLES)


def _url() -> str:
    return config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection: Connection | None = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=True,
        compare_type=True,
        include_object=include_object,
    )
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        # Rebuilding a table means dropping it: with foreign keys enforced, dropping a table
        # that other rows refer to fails (or, with ON DELETE CASCADE, deletes those rows).
        # The pragma works only outside a transaction, so it goes to the driver before any.
        _sqlite_foreign_keys(connection, on=False)
    try:
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(
                        f"The migration left {len(broken)} rows whose foreign keys point "
                        f"nowhere (first: {tuple(broken[0])}); nothing was changed."
                    )
    finally:
        if sqlite:
            _sqlite_foreign_keys(connection, on=True)


def _sqlite_foreign_keys(connection: Connection, *, on: bool) -> None:
    if connection.in_transaction():
        connection.commit()  # the pragma is a no-op inside a transaction
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
