"""The database schema comes from the Alembic migrations and matches the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.store import Base, Store


def test_migrations_build_exactly_the_schema_the_models_describe(db_url):
    store = Store(db_url)
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    store.close()
    assert differences == []
    assert {"users", "runs", "answers", "answer_matches", "safety_alarms", "alembic_version"} <= tables


def test_opening_twice_is_harmless(db_url):
    Store(db_url).close()
    Store(db_url).close()
