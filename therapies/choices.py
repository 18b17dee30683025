"""Stable codes for therapies."""

from django.db import models


class ReviewPosition(models.TextChoices):
    """The source review's position on a therapy."""

    MAINSTAY = "mainstay", "Mainstay of initial treatment"
    STEROID_SPARING = "steroid_sparing", "Glucocorticoid-sparing agent"
    REFRACTORY = "refractory", "For refractory disease"
    INVESTIGATIONAL = "investigational", "Investigational / emerging"
    LIMITED_NEGATIVE = "limited_negative", "Limited or negative evidence"
    MAY_INDUCE_MYOSITIS = "may_induce_myositis", "May induce myositis"
    ADJUNCT = "adjunct", "Adjunct (treats a complication)"


class Route(models.TextChoices):
    ORAL = "oral", "Oral"
    INTRAVENOUS = "iv", "Intravenous"
    SUBCUTANEOUS = "sc", "Subcutaneous"
    INTRAMUSCULAR = "im", "Intramuscular"
    IV_OR_SC = "iv_sc", "Intravenous or subcutaneous"
    ORAL_OR_IV = "oral_iv", "Oral or intravenous"
    EXTRACORPOREAL = "extracorporeal", "Extracorporeal (apheresis)"
    VARIOUS = "various", "Various"
