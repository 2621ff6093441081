"""A clinician's *reading* of a case in one elastography mode: what signing needs (:mod:`.requirements`).

The scale its confirmed score is on is decided in :mod:`usegan.scoring.systems`; the page workflow over them is
:mod:`usegan.services.signing`."""
