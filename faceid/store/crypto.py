"""Encryption of template vectors at rest: AES-256-GCM from ``cryptography``.

The key is ``FACEID_ENCRYPTION_KEY``: 32 bytes as 64 hex digits or as base64.
Each value gets a fresh 96-bit nonce; the row id is bound as associated data,
so a ciphertext copied onto another row does not decrypt.
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
