import os

import pytest
from cryptography.fernet import Fernet

# Tests encrypt with a key of their own, never one from the developer's data folder.
os.environ["REFLECTBOT_KEYS"] = Fernet.generate_key().decode()

from bot.service import Service
from bot.store import Store
from dialogues.engine import Engine, load_messages
from dialogues.script import load_scripts
from knowledge.base import load_knowledge


@pytest.fixture(scope="session")
def kb():
    return load_knowledge()


@pytest.fixture(scope="session")
def engine(kb):
    return Engine(kb, load_scripts(), load_messages())


@pytest.fixture
def db_url(tmp_path):
    return f"sqlite:///{tmp_path / 'reflectbot.db'}"


@pytest.fixture
def service(engine, db_url):
    service = Service(Store(db_url), engine)
    service.flood = (10_000, 10.0)  # tests type faster than people; test_privacy checks the limit
    yield service
    service.store.close()
