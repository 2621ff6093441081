"""``usegan models list | promote VERSION [--force --reason R] | rollback``: the model registry's versions.

Promotion refuses a candidate worse than the active model on the store's validation pairs unless forced with a
reason (audited); rollback re-activates the version that was active before.
"""

from __future__ import annotations

import argparse
import json
import os

from usegan.vocab import Mode, values


def register(subparsers) -> None:
    p = subparsers.add_parser("models", help="list, promote or roll back model versions")
    sub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True)
    actor = argparse.ArgumentParser(add_help=False)
    actor.add_argument("--by", default=None, help="user name for the audit log (default: cli:$USER)")
    ls = sub.add_parser("list", help="registered versions with status and validation figures")
    ls.add_argument("--mode", choices=values(Mode))
    ls.add_argument("--json", action="store_true", help="print the records as JSON")
    promote = sub.add_parser("promote", help="make a candidate the active model of its mode", parents=[actor])
    promote.add_argument("version")
    promote.add_argument("--force", action="store_true", help="promote even if worse (needs --reason)")
    promote.add_argument("--reason", default="", help="why (required with --force; kept in the audit log)")
    rollback = sub.add_parser("rollback", help="re-activate the previously active version", parents=[actor])
    rollback.add_argument("--mode", choices=values(Mode), default=Mode.STRAIN.value)
    rollback.add_argument("--reason", default="", help="why (kept in the audit log)")
    p.set_defaults(func=run)


def _figure(metrics: dict, key: str) -> str:
    value = (metrics.get("validation_pairs") or {}).get(key)
    return "-" if value is None else f"{value:.4f}"


def run(args: argparse.Namespace) -> int:
    from usegan.commands import CommandError
    from usegan.finetune.promotion import PromotionRefused, promote, rollback
    from usegan.store import NotFoundError, StoreError, open_store

    by = getattr(args, "by", None) or f"cli:{os.environ.get('USER', 'unknown')}"
    try:
        with open_store() as store:
            if args.models_command == "list":
                records = store.registry.list(args.mode)
                if args.json:
                    print(json.dumps([r.__dict__ for r in records], default=str, indent=2))
                    return 0
                print(f"{'version':<44} {'mode':<6} {'status':<9} {'val L1':>7} {'val SSIM':>8}  created")
                for r in records:
                    print(f"{r.version:<44} {r.mode:<6} {r.status:<9} {_figure(r.metrics, 'l1'):>7} "
                          f"{_figure(r.metrics, 'ssim_box'):>8}  {r.created_at:%Y-%m-%d %H:%M}")  # fmt: skip
                if not records:
                    print("(no registered model: the app uses the bundled checkpoints)")
            elif args.models_command == "promote":
                done = promote(store, args.version, by=by, force=args.force, reason=args.reason)
                print(f"{done.record.version} is now the active {done.record.mode} model"
                      f"{' (FORCED)' if done.forced else ''}; was {done.previous or 'none'}. "
                      f"{done.comparison['reason']}")  # fmt: skip
            else:
                record = rollback(store, args.mode, by=by, reason=args.reason)
                print(f"rolled back: {record.version} is the active {record.mode} model again")
    except PromotionRefused as exc:
        raise CommandError(str(exc)) from exc
    except (NotFoundError, StoreError, ValueError) as exc:
        raise CommandError(str(exc)) from exc
    return 0
