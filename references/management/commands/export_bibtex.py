"""python manage.py export_bibtex [PATH] [--published]: write the bibliography as BibTeX."""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db.models import F

from references.formats import to_bibtex
from references.models import Reference


class Command(BaseCommand):
    help = (
        "Write every reference (or only the published ones) as BibTeX, to PATH or to standard "
        "output. Importing the file again with import_bibtex changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="Output file (default: standard output).")
        parser.add_argument(
            "--published", action="store_true", help="Only references that are published."
        )

    def handle(self, *args, **options):
        references = Reference.objects.with_authors().order_by(
            F("number").asc(nulls_last=True), "bibtex_key"
        )
        if options["published"]:
            references = references.published()
        chunks = to_bibtex(references)
        if not options["path"]:
            for chunk in chunks:
                self.stdout.write(chunk, ending="")
            return
        path = Path(options["path"])
        # Written beside the target and renamed, so a failure never leaves half a file.
        partial = path.with_name(path.name + ".partial")
        try:
            with partial.open("w", encoding="utf-8") as out:
                count = sum(out.write(chunk) > 0 for chunk in chunks)
            os.replace(partial, path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            raise CommandError(f"{path}: cannot be written ({exc.strerror}).") from None
        self.stderr.write(f"Exported {count} references to {path}.")
