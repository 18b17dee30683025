"""Release pages and downloads."""

from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from django.views.generic import DetailView, ListView, View

from core.conditional import respond
from core.http import attach
from releases.changelog import changelog
from releases.models import Release, ReleaseArtefact


class ReleaseListView(ListView):
    template_name = "releases/release_list.html"
    context_object_name = "releases"

    def get_queryset(self):
        return Release.objects.prefetch_related("artefacts")


class ReleaseDetailView(DetailView):
    template_name = "releases/release_detail.html"
    context_object_name = "release"
    slug_field = slug_url_kwarg = "version"

    def get_queryset(self):
        return Release.objects.prefetch_related("artefacts")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["changelog"] = changelog(self.object)
        return context


class ReleaseArtefactView(View):
    """A frozen file, byte for byte as released (its SHA-256 is on the release page)."""

    def get(self, request, version, name):
        artefact = get_object_or_404(
            ReleaseArtefact.objects.select_related("release"), release__version=version, name=name
        )
        if artefact is None:
            raise Http404

        def build():
            response = HttpResponse(
                artefact.content.encode("utf-8"),
                content_type=f"{artefact.media_type}; charset=utf-8",
            )
            response["Digest"] = f"sha-256={artefact.sha256}"
            return attach(response, f"myoevidence-{version}-{name}")

        # A released file never changes: its SHA-256 is a strong validator.
        return respond(
            request,
            etag=f'"{artefact.sha256}"',
            last_modified=artefact.release.created_at,
            build=build,
        )
