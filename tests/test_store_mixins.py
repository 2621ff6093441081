"""The Store's mixins and what each relies on: the store core (clock, images, transaction, audit, query, cursors)
and a declared few methods of other mixins. A mixin that starts to lean on another mixin's member without it being
listed here fails, so the implicit contracts between the store's parts stay written down (usegan/store/db.py)."""

from __future__ import annotations

import inspect
import re

import pytest

from usegan.store import db
from usegan.store.attachments import AttachmentsMixin
from usegan.store.auth import AuthMixin
from usegan.store.cases import CasesMixin
from usegan.store.intake import IntakeMixin
from usegan.store.research import ResearchMixin
from usegan.store.reviews import ReviewsMixin
from usegan.store.users import UsersMixin
from usegan.store.worklist import WorklistMixin

MIXINS = (CasesMixin, IntakeMixin, AttachmentsMixin, ReviewsMixin, UsersMixin, AuthMixin, WorklistMixin, ResearchMixin)

# What the Store itself provides to every mixin (set in Store.__init__ or defined on Store).
CORE = {"clock", "images", "read_only", "store_patient_names", "store_patient_ids", "auth_policy", "_write_lock",
        "transaction", "audit", "query", "_cursor"}  # fmt: skip

# Cross-mixin dependencies, by owner: the only members of another mixin a mixin may call.
DEPENDS = {
    AttachmentsMixin: {CasesMixin: {"_require_case"}},
    ReviewsMixin: {CasesMixin: {"_require_case"}, UsersMixin: {"require_role"}},
    UsersMixin: {AuthMixin: {"end_user_sessions"}},
    AuthMixin: {UsersMixin: {"_maybe_rehash", "get_user"}},
    ResearchMixin: {CasesMixin: {"_require_case"}, ReviewsMixin: {"_current_review"}, UsersMixin: {"require_role"}},
}


def _own(cls) -> set[str]:
    return {name for name in vars(cls) if not name.startswith("__")}


def test_the_store_is_exactly_these_mixins_and_provides_the_core():
    assert set(db.Store.__bases__) == set(MIXINS)
    defined_on_store = _own(db.Store)
    assert {"transaction", "audit", "query", "_cursor"} <= defined_on_store
    init = inspect.getsource(db.Store.__init__)
    for attribute in CORE - defined_on_store:
        assert f"self.{attribute} =" in init, attribute


@pytest.mark.parametrize("mixin", MIXINS, ids=lambda m: m.__name__)
def test_each_mixin_uses_only_the_core_its_own_members_and_its_declared_dependencies(mixin):
    used = set(re.findall(r"self\.(\w+)", inspect.getsource(mixin)))
    allowed = CORE | _own(mixin) | set().union(*DEPENDS.get(mixin, {}).values())
    assert not used - allowed, f"{mixin.__name__} relies on undeclared store members {sorted(used - allowed)}"
    for owner, names in DEPENDS.get(mixin, {}).items():
        assert names <= _own(owner), f"{owner.__name__} does not define {sorted(names - _own(owner))}"


def test_no_two_mixins_define_the_same_member():
    seen: dict[str, str] = {}
    for mixin in MIXINS:
        for name in _own(mixin):
            assert name not in seen, f"{name} is defined by both {seen[name]} and {mixin.__name__}"
            seen[name] = mixin.__name__
