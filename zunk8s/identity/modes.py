"""The authenticator the settings ask for."""

from __future__ import annotations

from zunk8s.identity.base import Authenticator
from zunk8s.identity.keystone import KeystoneAuthenticator
from zunk8s.identity.noauth import NoAuth
from zunk8s.identity.statictokens import StaticTokens
from zunk8s.settings import AuthSettings


def make_authenticator(settings: AuthSettings) -> Authenticator:
    if settings.mode == "keystone" and settings.keystone is not None:
        return KeystoneAuthenticator(settings.keystone)
    if settings.mode == "static" and settings.tokens_file:
        return StaticTokens(settings.tokens_file)
    return NoAuth(settings)
