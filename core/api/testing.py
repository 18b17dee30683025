"""Helpers for the API's tests (as NetBox keeps ``utilities/testing``): clients with tokens,
editorial users, readers for the export formats. Imported by tests only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient


@pytest.fixture
def fresh_throttle():
    """Each test starts with empty rate-limit counters (they live in the cache)."""
    cache.clear()
    yield
    cache.clear()


def make_user(username: str, *groups: str, is_staff: bool = True) -> User:
    """A user in the given editorial groups ("Curators", "Editors")."""
    user = User.objects.create_user(username, password="not-used", is_staff=is_staff)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


def client_for(user: User | None = None) -> APIClient:
    """An API client; with a user, authenticated by token as integrators are."""
    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def content(response) -> bytes:
    """The body of a normal or streamed response."""
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def read_ris(text: str) -> list[dict[str, list[str]]]:
    """A small RIS reader: one dict per record, tag -> values in order."""
    records, current = [], None
    for line in text.splitlines():
        if len(line) < 5 or line[2:5] != "  -":
            continue
        tag, value = line[:2], line[6:].strip()
        if tag == "TY":
            current = {}
        if current is None:
            raise ValueError(f"RIS line outside a record: {line!r}")
        current.setdefault(tag, []).append(value)
        if tag == "ER":
            records.append(current)
            current = None
    if current is not None:
        raise ValueError("RIS record without ER")
    return records
