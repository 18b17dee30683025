"""The editors' review queue: every submitted entry of every reviewed model, oldest first.

``core`` knows no content app (dependencies point one way), so the queue finds the reviewed
models among those registered with the admin site.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.apps import apps
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse

from core.choices import ReviewStatus
from core.models import ReviewedModel
from core.workflow import can_publish, is_curator


@dataclass
class QueueItem:
    obj: ReviewedModel
    kind: str
    submitted_at: datetime | None
    review_url: str
    change_url: str


def review_queue_items(site: admin.AdminSite) -> list[QueueItem]:
    """Submitted entries across the reviewed models registered on ``site``, oldest first."""
    items = []
    for model in apps.get_models():
        if not issubclass(model, ReviewedModel) or not site.is_registered(model):
            continue
        info = model._meta.app_label, model._meta.model_name
        queryset = model._default_manager.filter(status=ReviewStatus.SUBMITTED)
        for obj in queryset.select_related("submitted_by", "reviewed_by"):
            items.append(
                QueueItem(
                    obj=obj,
                    kind=str(model._meta.verbose_name).capitalize(),
                    submitted_at=obj.submitted_at or obj.modified,
                    review_url=reverse(
                        "admin:{}_{}_review".format(*info), args=[obj.pk], current_app=site.name
                    ),
                    change_url=reverse(
                        "admin:{}_{}_change".format(*info), args=[obj.pk], current_app=site.name
                    ),
                )
            )
    return sorted(items, key=lambda item: (item.submitted_at, item.kind, item.obj.pk))


def review_queue_view(request):
    """What waits for an editor. Curators may look (to follow their submissions)."""
    if not is_curator(request.user):
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": "Review queue",
        "items": review_queue_items(admin.site),
        "can_publish": can_publish(request.user),
        "queue_url": request.path,
    }
    return TemplateResponse(request, "admin/review_queue.html", context)


class AdminSite(admin.AdminSite):
    """The site's admin: Django's, plus the review queue at /admin/review-queue/.

    Installed as the default site by ``core.apps.AdminConfig`` (in INSTALLED_APPS in place of
    ``django.contrib.admin``), so ``admin.site`` is this site everywhere.
    """

    def get_urls(self):
        return [
            path("review-queue/", self.admin_view(review_queue_view), name="review_queue"),
            *super().get_urls(),
        ]
