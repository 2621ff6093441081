"""The optimisation loop: pairs from the store, fine-tune, promote / refuse / force / roll back, background jobs."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch

from tests.optimize_fixtures import (  # noqa: F401  (fixtures)
    PASSWORD,
    fast_hasher_fixture,
    import_signed_pairs,
    loop_fixture,
    make_phantoms,
    patient_ids,
    tiny_checkpoint,
)
from tests.store_fixtures import reading_basis
from usegan.active_model import NoModelError, model_key, resolve
from usegan.checkpoint import read_checkpoint
from usegan.cli import main
from usegan.finetune.jobs import JobRunner, JobRunningError
from usegan.finetune.pairs import StorePairsDataset, export_snapshot, list_pairs, split_for, sync_pairs
from usegan.finetune.promotion import PromotionRefused, promote, rollback
from usegan.finetune.run import FinetuneConfig
from usegan.inference import VirtualElastographer
from usegan.services.service import GenerationCache, generate_for_case
from usegan.settings import get_settings
from usegan.store import open_store

FAST = [
    "--threads",
    "1",
    "--steps",
    "30",
    "--batch-size",
    "4",
    "--lr-g",
    "0.002",
    "--w-gan",
    "0",
    "--w-vgg",
    "0",
    "--augment",
    "0",
]


@pytest.fixture(autouse=True)
def one_torch_thread():
    # On a loaded 2-core machine, 2 OpenMP threads make these tiny models ~100x slower (spin-waiting).
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _finetune_argv(loop) -> list[str]:
    replay = ["--replay", str(loop["phantoms"]), "--replay-fraction", "0.25"]
    return ["finetune", "--from-store", "--mode", "strain", *FAST, *replay, "--phantom-test", str(loop["test_set"])]


def test_split_is_deterministic_and_per_patient():
    assert split_for("P-1") == split_for("P-1")
    splits = [split_for(f"P-{i}") for i in range(400)]
    assert 0.12 < splits.count("validation") / 400 < 0.28  # about VALIDATION_FRACTION
    with pytest.raises(ValueError, match="validation_fraction"):
        split_for("P-1", 1.0)


def test_sync_pairs_only_signed_aligned_cases_and_keeps_the_split(tmp_path, fast_hasher):
    phantoms = make_phantoms(tmp_path / "ph", 4, seed=11)
    with open_store(get_settings()) as store:
        store.add_user("dr_a", PASSWORD, "clinician", created_by="test")
        pids = patient_ids(2, 1)
        signed = import_signed_pairs(store, phantoms, pids)
        draft = import_signed_pairs(store, phantoms, ["P-draft"], sign=False)[0]
        # a signed case whose real elastogram has another size cannot be a pixel-aligned pair
        odd = store.create_case(np.zeros((40, 50), np.uint8), organ="breast", created_by="dr_a", patient_id="P-odd")
        store.attach_real_elastogram(odd, np.full((20, 20, 3), (255, 0, 0), np.uint8), "strain", "x", created_by="dr_a")
        lesion = {"lesion": {"type": "rect", "x": 5, "y": 5, "w": 10, "h": 10}}
        v = store.save_draft(odd, "dr_a", lesion, 2, "odd", expected_version=0, **reading_basis(store, odd))
        store.sign(odd, "dr_a", expected_version=v.row_version)

        report = sync_pairs(store, by="dr_a")
        assert sorted(p.case_id for p in report.added) == sorted(signed)
        assert draft not in {p.case_id for p in list_pairs(store)}
        assert "pixel-aligned" in report.skipped[odd]
        splits = {p.case_id: p.split for p in list_pairs(store)}
        assert splits == {c: split_for(pid) for c, pid in zip(signed, pids, strict=True)}
        assert store.audit_log(entity_id=signed[0])["action"].str.contains("training_pair.add").any()

        # an amendment moves the pair to the new review, never to another split
        case = signed[0]
        current = store.current_review(case)
        small = {"lesion": {"type": "rect", "x": 0, "y": 0, "w": 16, "h": 8}}  # the amendment redraws the ROI
        amended = store.amend(case, "dr_a", small, 5, "re-read", "second look", expected_version=current.row_version)
        again = sync_pairs(store, by="dr_a")
        assert again.updated == [case] and not again.added
        pair = next(p for p in list_pairs(store) if p.case_id == case)
        assert pair.review_id == amended.review_id and pair.split == splits[case]

        manifest = export_snapshot(store, "strain", tmp_path / "snap")
        assert manifest["counts"] == {"train": 2, "validation": 1}
        dataset = StorePairsDataset(tmp_path / "snap", "train", size=32)
        item = dataset[0]
        assert item["bmode"].shape == (1, 32, 32) and item["elasto"].shape == (3, 32, 32)
        record = dataset.records[0]
        assert record["case_id"] == dataset.names[0] and record["confirmed_score"] in (3, 5)
        # the amended case's mask is the amendment's 16x8 ROI (8x4 at 32 px); the others carry their lesion box
        masks = {n: dataset[i]["mask"].sum().item() for i, n in enumerate(dataset.names)}
        assert 0 < masks.get(case, 32) <= 40 and any(v > 0 for k, v in masks.items() if k != case)


def test_end_to_end_finetune_promote_generate_rollback(loop, capsys):
    assert main(_finetune_argv(loop)) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    version = printed["candidate"]
    with open_store(get_settings()) as store:
        record = store.registry.get(version)
        assert record.status == "candidate"
        metrics = record.metrics
        assert metrics["validation_pairs"]["n"] == 2 and metrics["base_on_validation_pairs"]["n"] == 2
        assert metrics["compared_with"] == "tiny-base"
        assert metrics["phantom_test"]["n_cases"] == 3 and metrics["base_on_phantom_test"]["n_cases"] == 3
        assert len(record.card["pairs"]["train"]) == 6 and len(record.card["pairs"]["validation"]) == 2
        assert not set(record.card["pairs"]["train"]) & set(record.card["pairs"]["validation"])
        assert record.card["base_version"] == "tiny-base" and "--replay-fraction 0.25" in record.card["command"]
        assert record.card["replay"]["cases"] == 2  # 6 pairs at a 25 % replay share
        training = read_checkpoint(record.path)["training"]
        assert training["base_version"] == "tiny-base" and training["store_train_pairs"] == 6
        assert training["simulated_data_only"] is False
        # the bundled base was the model in use: it is now registered and active, so rollback can return to it
        base = store.registry.active("strain")
        assert base.version == "tiny-base"
        # training moved the weights towards the pairs: the candidate beats the random base on validation L1 (the
        # fixture's validation cases repeat training phantoms, see loop_fixture)
        assert metrics["validation_pairs"]["l1"] < metrics["base_on_validation_pairs"]["l1"]
        case_id = loop["case_ids"][0]
        before = generate_for_case(store, case_id, _engine(store), "dr_a", GenerationCache())
        assert before.model_version == "tiny-base"

    assert main(["models", "promote", version]) == 0
    assert main(["models", "list"]) == 0
    assert version in capsys.readouterr().out
    with open_store(get_settings()) as store:
        assert store.registry.active("strain").version == version
        assert resolve("strain", store) == __import__("pathlib").Path(record.path)
        after = generate_for_case(store, case_id, _engine(store), "dr_a", GenerationCache())
        assert after.model_version == version and after.generation_id != before.generation_id

    assert main(["models", "rollback", "--mode", "strain", "--reason", "ward feedback"]) == 0
    with open_store(get_settings()) as store:
        assert store.registry.active("strain").version == "tiny-base"
        assert store.registry.get(version).status == "retired"
        again = generate_for_case(store, case_id, _engine(store), "dr_a", GenerationCache())
        assert again.model_version == "tiny-base"
        audit = store.audit_log(entity="model", entity_id="tiny-base")
        assert json.loads(audit["after"].iloc[0])["rollback_from"] == version


def _engine(store) -> VirtualElastographer:
    return VirtualElastographer.from_checkpoint(resolve("strain", store))


def test_worse_candidate_refused_then_forced_with_reason_audited(loop, tmp_path):
    with open_store(get_settings()) as store:
        sync_pairs(store, by="dr_a")
        good = tiny_checkpoint(tmp_path / "good.pt", "good", seed=1)
        white = tiny_checkpoint(tmp_path / "white.pt", "white", white=True)
        store.registry.register("good", "strain", good, created_by="admin")
        store.registry.set_active("good", by="admin")
        store.registry.register("white", "strain", white, created_by="admin")

        with pytest.raises(PromotionRefused, match="worse") as refused:
            promote(store, "white", by="admin")
        assert refused.value.comparison["reevaluated"]  # no recorded figures: both were evaluated on the pairs
        assert refused.value.comparison["candidate"]["l1"] > refused.value.comparison["active"]["l1"]
        assert store.registry.active("strain").version == "good"
        with pytest.raises(ValueError, match="reason"):
            promote(store, "white", by="admin", force=True, reason="  ")
        assert store.registry.active("strain").version == "good"

    # the CLI refuses the same way (exit 2) and needs --reason with --force
    assert main(["models", "promote", "white"]) == 2
    assert main(["models", "promote", "white", "--force"]) == 2
    assert main(["models", "promote", "white", "--force", "--reason", "vendor-requested test", "--by", "admin"]) == 0
    with open_store(get_settings()) as store:
        assert store.registry.active("strain").version == "white"
        row = store.audit_log(entity="model", entity_id="white").iloc[0]
        after = json.loads(row["after"])
        assert row["action"] == "model.set_active" and row["actor"] == "admin"
        assert after["forced"] is True and after["reason"] == "vendor-requested test"
        assert after["comparison"]["worse"] is True
        # rollback returns to the model that was active before the forced promotion
        assert rollback(store, "strain", by="admin").version == "good"


def test_promotion_without_validation_pairs_needs_force(tmp_path, fast_hasher):
    with open_store(get_settings()) as store:
        store.registry.register("a", "strain", tiny_checkpoint(tmp_path / "a.pt", "a"), created_by="admin")
        store.registry.register("b", "strain", tiny_checkpoint(tmp_path / "b.pt", "b", seed=2), created_by="admin")
        assert promote(store, "a", by="admin").previous is None  # nothing active: nothing to be worse than
        with pytest.raises(PromotionRefused, match="no validation pairs"):
            promote(store, "b", by="admin")
        assert promote(store, "b", by="admin", force=True, reason="first department model").forced
        with pytest.raises(ValueError, match="no earlier"):
            rollback(store, "swe", by="admin")


def test_active_checkpoint_falls_back_to_bundled(tmp_path, monkeypatch, fast_hasher):
    model_dir = tmp_path / "models"
    monkeypatch.setenv("USEGAN_MODEL_DIR", str(model_dir))
    with open_store(get_settings()) as store:
        with pytest.raises(NoModelError, match="strain"):
            resolve("strain", store)
        bundled = tiny_checkpoint(model_dir / "usegan-strain-v1.pt", "bundled-v1")
        assert resolve("strain", store) == bundled
        assert resolve("strain", None) == bundled
        other = tiny_checkpoint(tmp_path / "ft.pt", "ft-1", seed=3)
        store.registry.register("ft-1", "strain", other, created_by="admin")
        key_before = model_key("strain", store)
        store.registry.set_active("ft-1", by="admin")
        assert resolve("strain", store) == other and model_key("strain", store) != key_before
        other.unlink()  # an active version whose file vanished must not break generation
        assert resolve("strain", store) == bundled
        with pytest.raises(ValueError, match="mode"):
            resolve("bmode", store)


def test_finetune_refuses_without_training_pairs(tmp_path, monkeypatch, fast_hasher):
    monkeypatch.setenv("USEGAN_MODEL_DIR", str(tmp_path / "models"))
    tiny_checkpoint(tmp_path / "models" / "tiny.pt", "tiny-base")
    assert main(["finetune", "--from-store", "--steps", "1", "--quiet"]) == 2
    with open_store(get_settings()) as store:
        assert store.registry.list() == []  # refused before the bundled base was registered
    assert not (get_settings().runs_dir / "finetune").exists()  # and before any run folder was written


def test_second_concurrent_finetune_is_refused_and_the_job_survives_a_refresh(loop):
    runner = JobRunner()
    config = FinetuneConfig(
        threads=1, steps=20, batch_size=4, lr_g=2e-3, w_gan=0, w_vgg=0, augment=False, phantom_test="none"
    )
    with open_store(get_settings()) as store:
        started = runner.start(store, config, by="admin")
        assert started.state in ("preparing", "training") and started.running
        with pytest.raises(JobRunningError, match="still running"):
            runner.start(store, config, by="admin")
        # a page run in another browser (a new runner over the same folder) sees the same job
        seen = JobRunner().status(store)
        assert seen.job_id == started.job_id and seen.running and seen.started_by == "admin"
        with pytest.raises(JobRunningError):
            JobRunner().start(store, config, by="other_admin")
        deadline = time.monotonic() + 240  # a safety net for a hung worker, not a speed assertion
        while runner.status().running and time.monotonic() < deadline:
            time.sleep(0.5)
        final = runner.status(store)
        assert final.state == "done", runner.log_tail()
        assert final.step == final.steps == 20
        record = runner.collect(store, by="admin")
        assert record is not None and record.version == started.job_id and record.status == "candidate"
        assert runner.status(store).registered
        assert record.metrics["validation_pairs"]["n"] == 2 and record.metrics["phantom_test"] is None
        assert runner.collect(store, by="admin").version == record.version  # idempotent
        assert not runner.lock_path.exists()  # finished and collected: a new start would be allowed


def test_stale_lock_of_a_dead_process_does_not_block(tmp_path):
    runner = JobRunner(tmp_path / "jobs")
    runner.jobs_dir.mkdir()
    runner.lock_path.write_text(json.dumps({"job_id": "old", "pid": 2**22 + 12345, "kind": "worker"}))
    runner._acquire("new")  # would raise JobRunningError if the dead job were taken for a running one
    assert json.loads(runner.lock_path.read_text())["job_id"] == "new"
