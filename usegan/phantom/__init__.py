"""Paired phantom simulator: seeded breast phantoms with B-mode, true strain, SE/SWE elastograms and labels.

Modules: :mod:`~usegan.phantom.tissue` (anatomy and property maps), :mod:`~usegan.phantom.bmode` (speckle),
:mod:`~usegan.phantom.mechanics` (plane-strain FEM), :mod:`~usegan.phantom.render` (colouring),
:mod:`~usegan.phantom.labels` (ground truth), :mod:`~usegan.phantom.case` (one case), :mod:`~usegan.phantom.writer`
(folders on disk), :mod:`~usegan.phantom.sheet` (contact sheet). See docs/phantom.md for the physics.
"""

from usegan.phantom.case import PhantomCase, case_seed, make_case, random_case, sample_params, teaching_params
from usegan.phantom.tissue import LESION_TYPES, SHAPES, PhantomParams

__all__ = [
    "LESION_TYPES",
    "SHAPES",
    "PhantomCase",
    "PhantomParams",
    "case_seed",
    "make_case",
    "random_case",
    "sample_params",
    "teaching_params",
]
