"""Scanner connectivity over DICOM: receive (C-STORE SCP + atomic spool), import the spool, send results back.

Modules: :mod:`~usegan.dicomnet.scp` (the receiver), :mod:`~usegan.dicomnet.spool` (atomic spool files),
:mod:`~usegan.dicomnet.contexts` (accepted SOP classes / transfer syntaxes and checks),
:mod:`~usegan.dicomnet.scu` (the sender), :mod:`~usegan.dicomnet.derived` (Secondary Capture and
Encapsulated PDF builders) and :mod:`~usegan.dicomnet.ingest` (spool -> case store). Import the sub-module
you need; this package imports nothing heavy by itself.
"""
