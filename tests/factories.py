"""Test data builders: users in the editorial groups, API clients, and many published studies
spread over the real vocabularies. Fixtures built on them live in conftest.py."""

import itertools

from core.choices import ReviewStatus
from evidence.choices import ResultDirection, StudyDesign
from evidence.levels import suggested_level
from evidence.models import DiseaseSubtype, Outcome, Study
from references.models import Author, Reference
from therapies.models import Therapy


def make_studies(count: int) -> list[Study]:
    """Create ``count`` published studies, each with its own reference, author and outcome."""
    therapies = list(Therapy.objects.all())
    subtypes = list(DiseaseSubtype.objects.all())
    designs = itertools.cycle(StudyDesign.values)
    results = itertools.cycle(ResultDirection.values)
    refs = Reference.objects.bulk_create(
        [
            Reference(
                title=f"Synthetic study {i}",
                bibtex_key=f"synthetic{i}",
                year=1990 + i % 35,
                journal="J Test",
                status=ReviewStatus.PUBLISHED,
                first_author=f"Author{i}",
                title_normalised=f"synthetic study {i}",
            )
            for i in range(count)
        ]
    )
    Author.objects.bulk_create(
        [
            Author(reference=r, position=1, family=f"Author{i}", given="A")
            for i, r in enumerate(refs)
        ]
    )
    studies = []
    for i, ref in enumerate(refs):
        design = next(designs)
        studies.append(
            Study(
                key=f"synthetic-{i}",
                reference=ref,
                label=f"Synthetic {i}",
                design=design,
                level=suggested_level(design),
                result=next(results),
                summary="Synthetic.",
                sample_size=10 + i,
                status=ReviewStatus.PUBLISHED,
            )
        )
    studies = Study.objects.bulk_create(studies)
    Through = Study.therapies.through
    Through.objects.bulk_create(
        [Through(study=s, therapy=therapies[i % len(therapies)]) for i, s in enumerate(studies)]
    )
    SThrough = Study.subtypes.through
    SThrough.objects.bulk_create(
        [
            SThrough(study=s, diseasesubtype=subtypes[i % len(subtypes)])
            for i, s in enumerate(studies)
        ]
    )
    Outcome.objects.bulk_create([Outcome(study=s, measure="ck", value="x") for s in studies])
    return studies


def staff(username: str, *groups: str, is_staff: bool = True, **extra):
    """A user in the named editorial groups (``core.workflow.CURATORS``, ``EDITORS``), staff
    unless told otherwise. A misspelt group is an error, not a user without rights."""
    from django.contrib.auth.models import Group, User

    found = list(Group.objects.filter(name__in=groups))
    if len(found) != len(set(groups)):
        raise ValueError(f"unknown group in {groups!r}")
    user = User.objects.create_user(username, is_staff=is_staff, **extra)
    user.groups.add(*found)
    return user


def client_for(user=None):
    """A REST API client; with a user, authenticated by token as integrators are."""
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
