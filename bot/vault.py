"""Encryption at rest for everything users type (Fernet / MultiFernet from `cryptography`).

The keys come from REFLECTBOT_KEYS (comma-separated Fernet keys, newest first) or, failing that, from
a key file in the data folder, created on first run readable by its owner only. Rotation puts a new
key first; older keys still decrypt until `reflectbot keys rotate` has re-encrypted every row.
"""
from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

KEY_FILE_NAME = "reflectbot.keys"


class KeyProblem(ValueError):
    """The configured encryption keys cannot be used (the message says which and how to fix it)."""


class Vault:
    def __init__(self, keys: list[bytes], where: str = "the key list"):
        if not keys:
            raise KeyProblem(f"{where} holds no encryption key")
        self.keys = keys
        try:
            self._fernet = MultiFernet([Fernet(k) for k in keys])
        except ValueError:
            raise KeyProblem(f"{where} holds a key that is not a Fernet key (32 url-safe base64-encoded "
                             f"bytes); leave REFLECTBOT_KEYS unset to use the key file in the data folder") from None

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise InvalidToken("a stored field cannot be decrypted with the configured keys") from None

    def rotate(self, token: str) -> str:
        """The same text, encrypted under the newest key."""
        return self._fernet.rotate(token.encode("ascii")).decode("ascii")


def key_file(data_dir: Path) -> Path:
    return data_dir / KEY_FILE_NAME


def load_vault(data_dir: Path) -> Vault:
    """Keys from REFLECTBOT_KEYS, else from the key file (made, owner-only, on first run)."""
    if os.environ.get("REFLECTBOT_KEYS"):
        return Vault([k.strip().encode() for k in os.environ["REFLECTBOT_KEYS"].split(",") if k.strip()],
                     "REFLECTBOT_KEYS")
    path = key_file(data_dir)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(Fernet.generate_key() + b"\n")
    return Vault([line.strip() for line in path.read_bytes().splitlines() if line.strip()], str(path))


def add_key(data_dir: Path) -> Vault:
    """Put a new key first in the key file (rotation's first half); returns the new vault."""
    path = key_file(data_dir)
    old = path.read_bytes() if path.exists() else b""
    new = Fernet.generate_key() + b"\n" + old
    temporary = path.with_suffix(".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(new)
    temporary.replace(path)
    return load_vault(data_dir)
