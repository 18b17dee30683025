from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from releases import backup
from releases.services import ReleaseError, make_release


class Command(BaseCommand):
    help = (
        "Freeze the published corpus as an immutable, citable data release (JSON, CSV, "
        "BibTeX, CSL-JSON and a FHIR R5 Bundle, each with its SHA-256)."
    )

    def add_arguments(self, parser):
        parser.add_argument("version", help="year.month.number, e.g. 2026.12.0 (new)")
        parser.add_argument("--notes", default="", help="What this release is for.")
        parser.add_argument(
            "--ship",
            action="store_true",
            help="Also write the release into the fixtures (fixtures/releases/<version>/), "
            "where load_corpus installs it on every installation, checksums verified. Make "
            "it on a database holding exactly the fixtures' corpus.",
        )

    def handle(self, *args, version, notes, ship, **options):
        target = Path(settings.MYOEVIDENCE_FIXTURES) / backup.FOLDER / version
        if ship and target.exists():
            # Checked first too, so that a refused ship leaves no release behind.
            raise CommandError(f"{target} exists already; a shipped release is never rewritten.")
        try:
            release = make_release(
                version=version,
                notes=notes,
                then=(lambda made: backup.ship(made, settings.MYOEVIDENCE_FIXTURES))
                if ship
                else None,
            )
        except (ReleaseError, backup.ShipError, OSError) as exc:
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
        if ship:
            self.stdout.write(f"Shipped in {target} (commit it; load_corpus installs it).")
