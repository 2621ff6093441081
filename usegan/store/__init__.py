"""The case store: DuckDB tables + content-addressed image files + users + audit + model registry.

>>> from usegan.store import open_store
>>> store = open_store()                                   # doctest: +SKIP
>>> case_id = store.create_case(bmode, organ="breast", created_by="dr_li")   # doctest: +SKIP
"""

from usegan.store.attachments import Generation, PreScore
from usegan.store.cases import Case, DuplicateCaseError
from usegan.store.db import Store, open_store
from usegan.store.errors import (
    AuthError,
    CaseWithdrawnError,
    ChangeRefusedError,
    ImageStoreError,
    NotFoundError,
    Refusal,
    ReviewSignedError,
    SignBlockedError,
    StaleImageError,
    StaleReviewError,
    StoreBusyError,
    StoreError,
    StoreFullError,
)
from usegan.store.registry import ModelRecord
from usegan.store.reviews import Review
from usegan.store.users import ROLES, User

__all__ = [
    "AuthError",
    "Case",
    "CaseWithdrawnError",
    "ChangeRefusedError",
    "DuplicateCaseError",
    "Generation",
    "ImageStoreError",
    "ModelRecord",
    "NotFoundError",
    "Refusal",
    "PreScore",
    "ROLES",
    "Review",
    "ReviewSignedError",
    "SignBlockedError",
    "StaleImageError",
    "StaleReviewError",
    "Store",
    "StoreBusyError",
    "StoreError",
    "StoreFullError",
    "User",
    "open_store",
]
