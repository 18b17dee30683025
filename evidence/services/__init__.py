"""Writes to the evidence model (studies, statements, subtypes) and the corpus loader."""
