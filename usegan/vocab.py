"""The words the domain fixes, once: elastography mode, organ, lesion type, review status, role, score system.

Each is a :class:`enum.StrEnum`, so a member compares equal to its stored string (``Mode.STRAIN == "strain"``),
formats as that string and is accepted wherever the string was: data already in the database, checkpoints
and JSON stays valid. Code outside this module names the member (``Mode.SWE``), never the literal ``"swe"``,
and CLI ``choices=`` come from :func:`values`.

>>> Mode("swe") is Mode.SWE, Organ.THYROID == "thyroid", values(Role)
(True, True, ('admin', 'clinician', 'researcher', 'viewer'))
"""

from __future__ import annotations

from enum import StrEnum


class Mode(StrEnum):
    """Elastography mode a generator produces (and a case's image was acquired in)."""

    STRAIN = "strain"  # strain (compression) elastography: colour = relative stiffness
    SWE = "swe"  # shear-wave elastography: colour = Young's modulus in kPa


class Organ(StrEnum):
    """Organ examined; decides which score system applies (see :mod:`usegan.scoring.systems`)."""

    BREAST = "breast"
    THYROID = "thyroid"
    LIVER = "liver"


class LesionType(StrEnum):
    """Lesion kinds the phantom simulates and the validation/teaching sets draw from."""

    NONE = "none"  # no lesion: background tissue only
    CYST = "cyst"
    FIBROADENOMA = "fibroadenoma"
    MALIGNANT = "malignant"
    MALIGNANT_HALO = "malignant_halo"  # malignant with a stiff rim larger than on B-mode
    ISO_STIFF = "iso_stiff"  # iso-echoic but stiff: invisible on B-mode


# Lesion types that have a lesion to score (validation sets, the teaching lab).
LESIONS: tuple[LesionType, ...] = tuple(t for t in LesionType if t is not LesionType.NONE)


class ReviewStatus(StrEnum):
    """State of one review record."""

    DRAFT = "draft"
    SIGNED = "signed"
    AMENDED = "amended"  # a signed review superseded by a newer signed version


# Review statuses that are final (signed or amended): the reading may go on a report.
FINAL_STATUSES: tuple[ReviewStatus, ...] = (ReviewStatus.SIGNED, ReviewStatus.AMENDED)


class CaseStatus(StrEnum):
    """Where a case stands on the worklist (the latest review's status once there is a review)."""

    NEW = "new"  # imported, nothing generated yet
    GENERATED = "generated"  # a virtual elastogram exists, no review yet
    DRAFT = ReviewStatus.DRAFT.value
    SIGNED = ReviewStatus.SIGNED.value
    AMENDED = ReviewStatus.AMENDED.value


class ModelStatus(StrEnum):
    """Lifecycle of a registered (fine-tuned) model."""

    CANDIDATE = "candidate"
    ACTIVE = "active"
    RETIRED = "retired"


class Role(StrEnum):
    """A user's role: what they may do."""

    ADMIN = "admin"
    CLINICIAN = "clinician"
    RESEARCHER = "researcher"
    VIEWER = "viewer"


# Roles allowed to write, sign or amend a review.
REVIEW_ROLES: tuple[Role, ...] = (Role.ADMIN, Role.CLINICIAN)


class ScoreSystem(StrEnum):
    """Named scoring systems a proposal or a confirmed score is on."""

    TSUKUBA = "tsukuba"  # breast strain, 5-point (Itoh/Tsukuba)
    RAGO = "rago"  # thyroid strain, 5-point (Rago)
    STRAIN_RATIO = "strain_ratio"  # lesion-to-fat strain ratio, a number not a class
    SWE_BREAST = "swe_breast"  # breast SWE: Emax below / at or above the cut-off
    SWE_THYROID = "swe_thyroid"  # thyroid SWE: 3 classes by Emax
    SWE_LIVER = "swe_liver"  # liver SWE: fibrosis class by median stiffness
    STIFFNESS = "stiffness_5"  # plain 5-point stiffness, for organs without a published strain score


class FrameChoice(StrEnum):
    """When a lesion is also read framed, in a box about 3x its size (:func:`usegan.services.framed.read_lesion`)."""

    AUTO = "auto"  # when it is small in the frame, as the review page does
    ALWAYS = "always"
    NEVER = "never"


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    """The plain strings of an enum, in declaration order (for argparse ``choices=`` and error messages)."""
    return tuple(member.value for member in enum)
