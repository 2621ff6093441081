"""Axial strain under a uniform compression: a 2-D plane-strain linear-elastic finite-element solve.

Model (the standard forward model of quasi-static strain elastography; Ophir et al., Ultrason Imaging 1991;
Kallel, Bertrand & Ophir, Ultrasound Med Biol 1996):

* the image plane is meshed with ``grid x grid`` bilinear quadrilateral (Q4) elements, one Young's modulus per
  element (geometric mean of the pixels it covers), one Poisson's ratio everywhere (0.495: soft tissue is nearly
  incompressible);
* near-incompressibility locks fully integrated Q4 elements, so the element stiffness uses *selective reduced
  integration* (Hughes, The Finite Element Method, 1987, section 4.4): the shear part with 2x2 Gauss points, the
  volumetric part with one;
* boundary conditions: the probe (top edge) moves down by ``applied_strain x depth`` and slides freely
  (frictionless); the bottom edge (chest wall) is fixed axially and either slides (``"roller"``, the default,
  so a homogeneous phantom strains uniformly and every contrast comes from stiffness) or is bonded
  (``"fixed"``, strain then decays with depth as on real scans); the lateral edges are traction free;
* the axial strain of each element is taken at its centre and interpolated bilinearly to the image.

What it reproduces: in a layered medium axial strain is inversely proportional to stiffness (series springs); a
stiff circular inclusion strains less than its background, by ``2 / (1 + c)`` for a modulus contrast ``c`` in an
incompressible medium (Eshelby; Kallel et al. 1996), so strain contrast understates modulus contrast; and the
tissue beside a stiff inclusion shows stress concentration (higher strain at its lateral sides).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from PIL import Image
from scipy import sparse
from scipy.sparse.linalg import spsolve


@dataclass(frozen=True)
class MechanicsConfig:
    grid: int = 64  # elements per side of the square mesh (the solve is on grid x grid, then interpolated)
    poisson: float = 0.495  # Poisson's ratio of all tissue (nearly incompressible)
    applied_strain: float = 0.01  # nominal compression: probe displacement / field depth (1 %)
    bottom: str = "roller"  # "roller": bottom slides laterally; "fixed": bottom bonded (no lateral motion)

    def __post_init__(self) -> None:
        if self.grid < 4:
            raise ValueError(f"grid must be at least 4 elements, got {self.grid!r}")
        if not 0.0 <= self.poisson < 0.5:
            raise ValueError(f"poisson must be in [0, 0.5), got {self.poisson!r}")
        if self.bottom not in ("roller", "fixed"):
            raise ValueError(f"bottom must be 'roller' or 'fixed', got {self.bottom!r}")
        if not self.applied_strain > 0:
            raise ValueError(f"applied_strain must be positive, got {self.applied_strain!r}")


_GAUSS = (0.5 - 0.5 / np.sqrt(3.0), 0.5 + 0.5 / np.sqrt(3.0))
# Local node order of an element whose top-left node is (row r, col c): (r,c), (r,c+1), (r+1,c+1), (r+1,c).
_NODE_XY = np.array([[0, 0], [1, 0], [1, 1], [0, 1]], dtype=np.float64)


def _b_matrix(x: float, y: float) -> np.ndarray:
    """(3, 8) strain-displacement matrix of a unit-square Q4 element at local (x, y); rows exx, eyy, gxy."""
    dndx = np.array([-(1 - y), (1 - y), y, -y])
    dndy = np.array([-(1 - x), -x, x, (1 - x)])
    b = np.zeros((3, 8))
    b[0, 0::2] = dndx
    b[1, 1::2] = dndy
    b[2, 0::2] = dndy
    b[2, 1::2] = dndx
    return b


@lru_cache(maxsize=8)
def element_stiffness(poisson: float) -> np.ndarray:
    """(8, 8) plane-strain stiffness of a square Q4 element with E = 1 (it does not depend on the element size)."""
    mu = 1.0 / (2.0 * (1.0 + poisson))
    lam = poisson / ((1.0 + poisson) * (1.0 - 2.0 * poisson))
    d_shear = mu * np.diag([2.0, 2.0, 1.0])
    d_vol = lam * np.array([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0]])
    k = np.zeros((8, 8))
    for gx in _GAUSS:
        for gy in _GAUSS:
            b = _b_matrix(gx, gy)
            k += 0.25 * b.T @ d_shear @ b
    b0 = _b_matrix(0.5, 0.5)
    k += b0.T @ d_vol @ b0
    return k


def coarse_modulus(stiffness_kpa: np.ndarray, grid: int) -> np.ndarray:
    """``(H, W)`` modulus map -> ``(grid, grid)`` element moduli by area-weighted geometric mean (box filter on
    log E), so a stiff inclusion smaller than an element still raises that element's modulus."""
    log_e = np.log(np.asarray(stiffness_kpa, dtype=np.float32))
    small = Image.fromarray(log_e, mode="F").resize((grid, grid), Image.BOX)
    return np.exp(np.asarray(small, dtype=np.float64))


@lru_cache(maxsize=4)
def _mesh(grid: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Element DOF table (n_el, 8) and the COO row/col index arrays of the global matrix."""
    nodes = np.arange((grid + 1) * (grid + 1)).reshape(grid + 1, grid + 1)
    corners = np.stack([nodes[:-1, :-1], nodes[:-1, 1:], nodes[1:, 1:], nodes[1:, :-1]], -1).reshape(-1, 4)
    dofs = np.empty((corners.shape[0], 8), dtype=np.int64)
    dofs[:, 0::2] = 2 * corners
    dofs[:, 1::2] = 2 * corners + 1
    rows = np.repeat(dofs, 8, axis=1).ravel()
    cols = np.tile(dofs, (1, 8)).ravel()
    return dofs, rows, cols


def solve_displacement(modulus: np.ndarray, config: MechanicsConfig = MechanicsConfig()) -> np.ndarray:
    """Element moduli ``(grid, grid)`` (row 0 at the probe) -> nodal displacement ``(grid+1, grid+1, 2)`` in
    element-size units, last axis (ux, uy) with y pointing into the body."""
    grid = modulus.shape[0]
    if modulus.shape != (grid, grid) or grid != config.grid:
        raise ValueError(f"modulus must be ({config.grid}, {config.grid}), got {modulus.shape}")
    if not np.all(np.isfinite(modulus)) or modulus.min() <= 0:
        raise ValueError(f"element moduli must be finite and positive, got min {modulus.min()!r}")
    dofs, rows, cols = _mesh(grid)
    k0 = element_stiffness(config.poisson)
    data = (modulus.reshape(-1, 1, 1) * k0[None]).ravel()
    n_dof = 2 * (grid + 1) ** 2
    k = sparse.coo_matrix((data, (rows, cols)), shape=(n_dof, n_dof)).tocsr()

    node = np.arange((grid + 1) ** 2).reshape(grid + 1, grid + 1)
    u = np.zeros(n_dof)
    fixed = [2 * node[0] + 1, 2 * node[-1] + 1]  # axial: probe row pushed, bottom row held
    u[2 * node[0] + 1] = config.applied_strain * grid
    if config.bottom == "fixed":
        fixed.append(2 * node[-1])
    else:  # one lateral pin removes the rigid sideways translation
        fixed.append(np.array([2 * node[-1, grid // 2]]))
    fixed_dofs = np.unique(np.concatenate(fixed))
    free = np.setdiff1d(np.arange(n_dof), fixed_dofs)
    rhs = -k[free][:, fixed_dofs] @ u[fixed_dofs]
    u[free] = spsolve(k[free][:, free].tocsc(), rhs)
    return u.reshape(grid + 1, grid + 1, 2)


def element_axial_strain(displacement: np.ndarray) -> np.ndarray:
    """Nodal displacement ``(g+1, g+1, 2)`` -> axial (compressive, positive) strain at element centres ``(g, g)``."""
    uy = displacement[..., 1]
    # d(uy)/dy at the centre of a bilinear element = mean of the two vertical edge differences.
    return 0.5 * ((uy[:-1, :-1] - uy[1:, :-1]) + (uy[:-1, 1:] - uy[1:, 1:]))


def axial_strain(stiffness_kpa: np.ndarray, config: MechanicsConfig = MechanicsConfig()) -> np.ndarray:
    """``(H, W)`` Young's modulus in kPa -> ``(H, W)`` float32 axial strain (compression positive; its mean is
    about ``config.applied_strain`` in a homogeneous phantom)."""
    stiffness_kpa = np.asarray(stiffness_kpa)
    if stiffness_kpa.ndim != 2:
        raise ValueError(f"stiffness map must be (H, W), got shape {stiffness_kpa.shape}")
    modulus = coarse_modulus(stiffness_kpa, config.grid)
    strain = element_axial_strain(solve_displacement(modulus, config))
    h, w = stiffness_kpa.shape
    # Element centres sit at pixel centres of a grid-sized image, so a plain bilinear resize aligns them.
    full = Image.fromarray(strain.astype(np.float32), mode="F").resize((w, h), Image.BILINEAR)
    return np.asarray(full, dtype=np.float32)
