"""``usegan serve``: the app process: background worker (spool import, job collection), optional DICOM receiver,
and the Streamlit web server, in one process that owns the database (``make run`` uses it)."""

from __future__ import annotations

import argparse
from pathlib import Path

from usegan.commands import CommandError

APP = Path(__file__).resolve().parent.parent.parent / "serve.py"  # app.py behind usegan's HTTP guard


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the app: web server + background worker (+ DICOM receiver with --dicom)",
        description="Start the background worker (imports the DICOM spool and registers finished fine-tune jobs "
        "every USEGAN_WORKER_INTERVAL_S seconds, whether or not a browser is connected), optionally the DICOM "
        "receiver, then the Streamlit web server, all in this one process (the database's single writer).",
    )
    parser.add_argument("--host", default=None, help="address the web server binds (default: USEGAN_HOST)")
    parser.add_argument("--port", type=int, default=None, help="web server port (default: USEGAN_PORT)")
    parser.add_argument("--dicom", action="store_true", help="also run the DICOM receiver (USEGAN_DICOM_* settings)")
    parser.add_argument("streamlit_args", nargs=argparse.REMAINDER, help="after --: more `streamlit run` options")
    parser.set_defaults(func=run)


def web_address(args: argparse.Namespace, settings) -> tuple[str, int]:
    """``(host, port)`` the web server binds: the options, else ``USEGAN_HOST`` / ``USEGAN_PORT``."""
    return args.host or settings.host, int(args.port or settings.port)


def streamlit_argv(host: str, port: int, extra: list[str]) -> list[str]:
    """``streamlit run`` arguments of the app server. No file watcher: a served app must not re-import its pages
    when files change under it (an update or a checkout mid-session broke every open page); ``extra`` options come
    last, so ``-- --server.fileWatcherType auto`` turns it back on for development."""
    return ["run", str(APP), "--server.address", host, "--server.port", str(port), "--server.headless", "true",
            "--server.fileWatcherType", "none", "--server.runOnSave", "false",
            "--browser.gatherUsageStats", "false", "--client.toolbarMode", "minimal", *extra]  # fmt: skip


def run(args: argparse.Namespace) -> int:
    import logging

    from usegan.background import ensure_worker
    from usegan.settings import get_settings
    from usegan.store import StoreBusyError
    from usegan.web.process import get_store

    settings = get_settings()
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        store = get_store(settings)
    except StoreBusyError as exc:
        raise CommandError(str(exc)) from exc
    ensure_worker(settings, store)
    if args.dicom:
        from usegan.dicomnet.scp import ListenerConfig, StoreListener

        try:
            listener = StoreListener(ListenerConfig.from_settings(settings)).start()
        except (OSError, ValueError) as exc:
            raise CommandError(f"DICOM receiver: {exc}") from exc
        print(f"usegan: DICOM receiver {listener.config.ae_title} on {listener.config.host}:{listener.port}")
    extra = [a for a in args.streamlit_args if a != "--"]
    host, port = web_address(args, settings)
    from streamlit.web import cli as streamlit_cli

    try:
        streamlit_cli.main(args=streamlit_argv(host, port, extra), prog_name="streamlit", standalone_mode=False)
    finally:
        from usegan.background import stop_workers

        stop_workers()
    return 0
