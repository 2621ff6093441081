"""A clinician's *reading* of a case in one elastography mode: the scale its confirmed score is on
(:mod:`.scales`), what signing needs (:mod:`.requirements`), and the review workflow the page calls
(the page workflow over them is :mod:`usegan.services.signing`)."""
