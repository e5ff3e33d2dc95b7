"""Encryption of template vectors at rest: AES-256-GCM from ``cryptography``.

The key is ``FACEID_ENCRYPTION_KEY``: 32 bytes as 64 hex digits or as base64.
Each value gets a fresh 96-bit nonce. A template is bound, as associated data, to its
organisation, subject, id and model, so a ciphertext copied onto another row, subject,
organisation or model does not decrypt. Subject names and metadata are sealed the same
way (bound to their organisation and subject) and stored as ``enc:<base64>`` text.
"""

from __future__ import annotations

import base64
import binascii
import os

from ..errors import ConfigError


def parse_key(text: str) -> bytes:
    text = text.strip()
    try:
        key = bytes.fromhex(text) if len(text) == 64 else base64.b64decode(text, validate=True)
    except (ValueError, binascii.Error) as exc:
        raise ConfigError("FACEID_ENCRYPTION_KEY must be 32 bytes, as hex or base64.") from exc
    if len(key) != 32:
        raise ConfigError(f"FACEID_ENCRYPTION_KEY is {len(key)} bytes; it must be 32.")
    return key


class TemplateCipher:
    """AES-GCM with a 12-byte random nonce prefixed to each ciphertext."""

    def __init__(self, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead = AESGCM(key)

    def encrypt(self, data: bytes, aad: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, data, aad)

    def decrypt(self, data: bytes, aad: bytes) -> bytes:
        return self._aead.decrypt(data[:12], data[12:], aad)


#: ``templates.encrypted``: 0 plain, 1 sealed to the row id only (before schema 4),
#: 2 sealed to organisation, subject, id and model.
SEALED_ROW_ONLY = 1
SEALED = 2
_TEXT_PREFIX = "enc:"


def template_aad(org_id: str, subject_id: str, template_id: str, model_id: str) -> bytes:
    return "\x1f".join(("template", org_id, subject_id, template_id, model_id)).encode()


def seal_text(cipher: TemplateCipher | None, text: str, aad: str) -> str:
    """``text`` sealed for storage (``enc:<base64>``), or as is without a cipher."""
    if cipher is None:
        return text
    sealed = cipher.encrypt(text.encode(), aad.encode())
    return _TEXT_PREFIX + base64.b64encode(sealed).decode()


def open_text(cipher: TemplateCipher | None, stored: str, aad: str) -> str:
    """The text a stored value seals (plain values, written before a key was set, pass)."""
    if not stored.startswith(_TEXT_PREFIX):
        return stored
    if cipher is None:
        raise ConfigError("Subject names are encrypted: set FACEID_ENCRYPTION_KEY.")
    return cipher.decrypt(base64.b64decode(stored[len(_TEXT_PREFIX) :]), aad.encode()).decode()
