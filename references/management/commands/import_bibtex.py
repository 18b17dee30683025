"""python manage.py import_bibtex PATH [--dry-run] [--user NAME]: import a BibTeX file.

``import_references`` with the format fixed to BibTeX (it also reads RIS and MEDLINE)."""

from references.management.commands.import_references import Command as ImportReferences
from references.readers import BIBTEX


class Command(ImportReferences):
    help = (
        "Import references from a BibTeX/biblatex file in one transaction: entries matching a "
        "stored reference (review number, DOI, PMID, then title and year) update it, the others "
        "are created as drafts. A file with any problem is refused whole. (import_references "
        "reads RIS and PubMed files too.)"
    )
    format = BIBTEX
