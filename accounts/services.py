"""Writes of the accounts app: personal API tokens.

A token's secret is made here and returned once; only its SHA-256 is kept.
"""

import datetime
import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from accounts.models import ApiToken

SECRET_PREFIX = "wct_"
# How stale `last_used_at` may get: the row is written at most once per interval per token.
LAST_USED_PRECISION = datetime.timedelta(minutes=1)


def hash_secret(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(user, *, name):
    """A new token for `user`; returns (token, secret). The secret is never stored."""
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken(
            user=user,
            name=name.strip(),
            key_hash=hash_secret(secret),
            prefix=secret[len(SECRET_PREFIX) :][: ApiToken.PREFIX_LENGTH],
        )
        token.full_clean()
        token.save()
    return token, secret


def revoke_api_token(token):
    """Delete the token: requests carrying its secret are refused from now on."""
    with transaction.atomic():
        token.delete()
    return token


def record_token_use(token, *, now=None):
    """Note that the token was used, writing the row only when the last note is stale."""
    now = now or timezone.now()
    if token.last_used_at and now - token.last_used_at < LAST_USED_PRECISION:
        return token
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    token.last_used_at = now
    return token
