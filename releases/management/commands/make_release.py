from django.core.management.base import BaseCommand, CommandError

from releases.services import ReleaseError, make_release


class Command(BaseCommand):
    help = (
        "Freeze the published corpus as an immutable, citable data release (JSON, CSV, "
        "BibTeX, CSL-JSON and a FHIR R5 Bundle, each with its SHA-256)."
    )

    def add_arguments(self, parser):
        parser.add_argument("version", help="year.month.number, e.g. 2026.12.0 (new)")
        parser.add_argument("--notes", default="", help="What this release is for.")

    def handle(self, *args, version, notes, **options):
        try:
            release = make_release(version=version, notes=notes)
        except ReleaseError as exc:
            raise CommandError(str(exc)) from None
        made = release.created_at.strftime("%Y-%m-%d %H:%M")
        self.stdout.write(
            f"Release {release.version} made at {made} UTC "
            f"(evidence up to {release.evidence_cutoff or 'n/a'})."
        )
        for artefact in release.artefacts.all():
            self.stdout.write(f"  {artefact.name}: {artefact.size} bytes, sha256 {artefact.sha256}")
        for name, count in release.counts.items():
            self.stdout.write(f"  {name}: {count}")
