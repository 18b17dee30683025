"""Choices shared by every curated content model."""

from django.db import models


class ReviewStatus(models.TextChoices):
    """Where an entry stands in the editorial workflow; only PUBLISHED is public."""

    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for review"
    PUBLISHED = "published", "Published"
    REJECTED = "rejected", "Rejected"
    WITHDRAWN = "withdrawn", "Withdrawn"
