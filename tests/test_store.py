"""The database schema comes from the Alembic migrations and matches the models."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text

from bot.store import Base, Store


def test_migrations_build_exactly_the_schema_the_models_describe(db_url):
    store = Store(db_url)
    with store.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    store.close()
    assert differences == []
    assert {"users", "runs", "answers", "safety_alarms", "alembic_version"} <= tables


def test_opening_twice_is_harmless(db_url):
    Store(db_url).close()
    Store(db_url).close()


def test_matches_kept_in_their_own_table_move_onto_the_answers(db_url):
    """A database made before 0004 keeps every match when it is upgraded."""
    from alembic import command
    from alembic.config import Config
    from pathlib import Path

    import bot.store

    engine = create_engine(db_url)
    config = Config()
    config.set_main_option("script_location", str(Path(bot.store.__file__).parent / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0003")
        connection.execute(text("INSERT INTO users (id, key, role, created_at, last_seen_at) "
                                "VALUES (1, 'console:old', 'practitioner', '2026-01-01', '2026-01-01')"))
        connection.execute(text("INSERT INTO runs (id, user_id, dialogue_id, script_version, state, path, status, "
                                "started_at, updated_at, told_redacted) VALUES (1, 1, 'stuck_cases', 1, 'x', '[]', "
                                "'active', '2026-01-01', '2026-01-01', 0)"))
        connection.execute(text("INSERT INTO answers (id, run_id, step, value, answered_at) "
                                "VALUES (1, 1, 'history', 'sealed', '2026-01-01'), (2, 1, 'plan', 'sealed', '2026-01-01')"))
        connection.execute(text("INSERT INTO answer_matches (answer_id, kind, ref, score) VALUES "
                                "(1, 'theme', 'stuck_cases', 0.7), (1, 'learning_point', 'lp-1', 1.2)"))
    engine.dispose()
    store = Store(db_url)
    with store.engine.connect() as connection:
        rows = dict(connection.execute(text("SELECT step, matched FROM answers ORDER BY id")).all())
        tables = set(inspect(connection).get_table_names())
    store.close()
    assert "answer_matches" not in tables
    assert rows["plan"] is None
    assert '"stuck_cases"' in rows["history"] and '"lp-1"' in rows["history"] and "1.2" in rows["history"]
