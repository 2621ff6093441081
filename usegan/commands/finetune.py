"""``usegan finetune``: fine-tune the active model on the case store's signed pairs and register a candidate.

``usegan finetune --from-store [--mode strain|swe] [--base VERSION] [--steps N] [--replay PHANTOM_DIR]
[--replay-fraction F]`` syncs the pairs, trains from the base, evaluates candidate vs base on the validation pairs
and the phantom test set, and registers the candidate (``usegan models promote`` makes it active). Under
``torchrun --nproc-per-node N -m usegan finetune --from-store ...`` only rank 0 opens the store; every rank trains.
``--plan`` runs a prepared plan without the store (what the app's background job does); ``--collect RUN_DIR``
registers a finished run whose registration could not happen (the store was busy).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict, fields


def register(subparsers) -> None:
    from usegan.configs import add_config_arguments
    from usegan.finetune.run import FinetuneConfig

    p = subparsers.add_parser("finetune", help="fine-tune the active model on the store's signed pairs")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-store", action="store_true", help="train on the case store's pairs")
    source.add_argument("--plan", help="run a prepared plan.json (no store access; used by the app's job runner)")
    source.add_argument("--collect", metavar="RUN_DIR", help="register the candidate of a finished run folder")
    p.add_argument("--progress", help="write progress JSON here (the app polls it)")
    p.add_argument("--by", default=None, help="user name for the audit log (default: cli:$USER)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_config_arguments(p, FinetuneConfig)
    p.set_defaults(func=run)


def _open_store():
    from usegan.commands import CommandError
    from usegan.store import StoreBusyError, open_store

    try:
        return open_store()
    except StoreBusyError as exc:
        raise CommandError(f"{exc} (or start the fine-tune from the app's Models page)") from exc


def run(args: argparse.Namespace) -> int:
    from usegan.commands import CommandError
    from usegan.configs import config_from_args
    from usegan.finetune.run import FinetuneConfig, FinetunePlan, execute_plan, prepare_plan, register_result

    by = args.by or f"cli:{os.environ.get('USER', 'unknown')}"
    if args.collect:
        path = os.path.join(args.collect, "result.json")
        if not os.path.isfile(path):
            raise CommandError(f"{args.collect}: no result.json (the run did not finish)")
        with _open_store() as store:
            record = register_result(store, json.load(open(path, encoding="utf-8")), by=by)
        print(f"registered candidate {record.version} ({record.mode})")
        return 0
    if args.plan:
        plan = FinetunePlan.load(args.plan)
    else:
        try:
            config = config_from_args(args, FinetuneConfig)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        given = {f.name: getattr(args, f.name) for f in fields(FinetuneConfig) if getattr(args, f.name) is not None}
        options = [f"--{k.replace('_', '-')} {v}" for k, v in given.items()]
        command = " ".join(["usegan finetune --from-store", *options])
        plan = _prepare_on_rank0(lambda store: prepare_plan(store, config, by=by, command=command), config)
    try:
        result = execute_plan(plan, args.progress, quiet=args.quiet)
    except Exception as exc:
        if args.progress:
            from usegan.fileutil import write_json_atomic

            write_json_atomic(args.progress, {"state": "failed", "message": f"{type(exc).__name__}: {exc}"})
        if isinstance(exc, ValueError | FileNotFoundError):
            raise CommandError(str(exc)) from exc
        raise
    if result is None:  # not rank 0
        return 0
    if args.from_store:
        with _open_store() as store:
            register_result(store, result, by=by)
    metrics = result["metrics"]
    print(json.dumps({"candidate": result["version"], "checkpoint": result["checkpoint"],
                      "registered": bool(args.from_store), "validation_pairs": metrics["validation_pairs"],
                      "base_on_validation_pairs": metrics["base_on_validation_pairs"]}, default=str))  # fmt: skip
    return 0


def _prepare_on_rank0(prepare, config):
    """Rank 0 prepares the plan with the store; under torchrun the other ranks receive it (or its error)."""
    from usegan.commands import CommandError
    from usegan.finetune.run import FinetunePlan
    from usegan.training import distributed

    info = distributed.setup(config.device)
    payload: list = [None]
    if info.is_main:
        try:
            with _open_store() as store:
                payload = [{"plan": asdict(prepare(store))}]
        except (ValueError, CommandError) as exc:
            payload = [{"error": str(exc)}]
    if info.enabled:
        import torch.distributed as dist

        dist.broadcast_object_list(payload, src=0)
    if "error" in payload[0]:
        distributed.teardown(info)
        raise CommandError(payload[0]["error"])
    return FinetunePlan(**payload[0]["plan"])
