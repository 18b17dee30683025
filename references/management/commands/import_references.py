"""python manage.py import_references PATH [--format F] [--dry-run] [--user NAME]: import a
BibTeX, RIS, Web of Science or PubMed (MEDLINE, .nbib) file."""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from references.importer import ImportRefused, check_size, decode_import_bytes, import_references
from references.readers import BIBTEX, FORMAT_LABELS, MEDLINE, RIS, WOS

PROGRESS_FROM = 50  # entries; smaller files import in a blink
FORMAT_CHOICES = {
    "auto": None,
    "bibtex": BIBTEX,
    "ris": RIS,
    "wos": WOS,
    "medline": MEDLINE,
    "nbib": MEDLINE,
}


class Command(BaseCommand):
    help = (
        "Import references from a BibTeX/biblatex, RIS, Web of Science or PubMed (MEDLINE, "
        ".nbib) file in one transaction: entries matching a stored reference (review number, "
        "DOI, PMID, then title and year) update it, the others are created as drafts. A file "
        "with any problem is refused whole."
    )
    # None: --format chooses (auto: detected from the content, then the extension).
    format: str | None = None

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file (UTF-8).")
        if self.format is None:
            parser.add_argument(
                "--format",
                choices=list(FORMAT_CHOICES),
                default="auto",
                help="The file's format (default: detected from its content and extension).",
            )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Check the file and report what would change, saving nothing.",
        )
        parser.add_argument(
            "--user",
            metavar="USERNAME",
            help="Record the changes in the history as this user's.",
        )

    def handle(self, *args, **options):
        path = Path(options["path"])
        user = self._user(options["user"])
        fmt = self.format or FORMAT_CHOICES[options.get("format") or "auto"]
        try:
            if not path.is_file():
                raise CommandError(f"{path}: no such file.")
            check_size(path.stat().st_size, name=str(path))
            text = decode_import_bytes(path.read_bytes(), name=str(path))
            report = import_references(
                text=text,
                fmt=fmt,
                name=path.name,
                user=user,
                dry_run=options["dry_run"],
                progress=self._progress if options["verbosity"] else None,
            )
        except ImportRefused as exc:
            raise CommandError(
                f"{path} was not imported; nothing was saved. Problems:\n  - "
                + "\n  - ".join(exc.problems)
            ) from None
        except OSError as exc:
            raise CommandError(f"{path}: cannot be read ({exc.strerror}).") from None
        if options["verbosity"] >= 1:
            if fmt is None:
                self.stdout.write(f"Read as {FORMAT_LABELS[report.format]}.")
            for line in report.lines():
                self.stdout.write(line)
        self.stdout.write(self.style.SUCCESS(report.summary()))

    def _progress(self, done: int, total: int) -> None:
        step = max(total // 10, 1)
        if total >= PROGRESS_FROM and (done % step == 0 or done == total):
            self.stderr.write(f"  {done}/{total} entries ({100 * done // total}%)")

    def _user(self, username: str | None):
        if not username:
            return None
        try:
            return get_user_model()._default_manager.get_by_natural_key(username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"No user named '{username}'.") from None
