"""``usegan dicom listen|send|echo``: receive images from scanners, send results back, test a connection."""

from __future__ import annotations

import argparse

from usegan.commands import CommandError
from usegan.vocab import Mode, values


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dicom", help="DICOM networking: listen for scanners, send results back")
    actions = parser.add_subparsers(dest="dicom_command", metavar="ACTION", required=True)

    listen = actions.add_parser(
        "listen",
        help="run the C-STORE receiver (writes into the spool; the app or `usegan ingest` imports it)",
        description="Accept Ultrasound and Secondary Capture images over DICOM and spool them atomically into "
        "settings.inbox_dir. Stops on Ctrl-C or SIGTERM.",
    )
    listen.add_argument("--port", type=int, default=None, help="TCP port (default: settings.dicom_port, 11112)")
    listen.add_argument("--ae-title", default=None, help="our AE title (default: settings.dicom_ae_title)")
    listen.add_argument(
        "--allow", default=None, help="comma-separated calling AE titles to accept (default: settings; empty = any)"
    )
    listen.add_argument(
        "--host", default=None, help="address to bind (default: settings.dicom_host, 127.0.0.1; 0.0.0.0 = all)"
    )
    listen.add_argument("--duration", type=float, default=0.0, help="stop after this many seconds (0 = run forever)")
    listen.set_defaults(func=run_listen)

    send = actions.add_parser(
        "send",
        help="send a case's virtual elastogram (Secondary Capture) and signed report (PDF) to a PACS",
        description="C-STORE the case's latest elastogram as a Secondary Capture and, when its review is signed, "
        "the report as Encapsulated PDF, into the study the B-mode came from.",
    )
    send.add_argument("case_id", metavar="CASE", help="case id, e.g. C-20260101-1a2b3c4d")
    _destination_args(send)
    send.add_argument("--mode", choices=values(Mode), default=None, help="which generation (default: latest)")
    send.set_defaults(func=run_send)

    echo = actions.add_parser("echo", help="C-ECHO a destination to test the connection")
    _destination_args(echo)
    echo.set_defaults(func=run_echo)


def _destination_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", default=None, help="HOST:PORT or HOST:PORT:AE (default: settings.dicom_destination)")
    parser.add_argument("--ae-title", default=None, help="the destination's AE title (if not in --to)")
    parser.add_argument("--calling-ae", default=None, help="our AE title (default: settings.dicom_ae_title)")


def _destination(args: argparse.Namespace, settings):
    from usegan.dicomnet.scu import Destination

    text = args.to or settings.dicom_destination
    if not text:
        raise CommandError("no destination: pass --to HOST:PORT --ae-title AE or set USEGAN_DICOM_DESTINATION")
    try:
        return Destination.parse(text, ae_title=args.ae_title)
    except ValueError as exc:
        raise CommandError(str(exc)) from exc


def run_listen(args: argparse.Namespace) -> int:
    import logging
    import signal
    import threading

    from usegan.dicomnet.scp import ListenerConfig, StoreListener
    from usegan.settings import get_settings

    settings = get_settings()
    allowed = None if args.allow is None else tuple(a.strip() for a in args.allow.split(",") if a.strip())
    try:
        config = ListenerConfig.from_settings(
            settings, port=args.port, ae_title=args.ae_title, allowed_aes=allowed, host=args.host
        )
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
        logging.getLogger("pynetdicom").setLevel(logging.WARNING)  # one line per object is ours to write
    stop = threading.Event()
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set()) if in_main else None  # systemd's stop
    try:
        listener = StoreListener(config).start()
    except ValueError as exc:
        raise CommandError(str(exc)) from exc
    except OSError as exc:
        raise CommandError(f"cannot listen on {config.host}:{config.port}: {exc.strerror or exc}") from exc
    transport = "plain TCP" if config.tls_cert is None else "TLS" + (" + client certificates" if config.tls_ca else "")
    print(
        f"listening as {config.ae_title} on {config.host}:{listener.port} ({transport}); spool {config.inbox_dir}; "
        f"calling AEs {','.join(config.allowed_aes) or 'any'}",
        flush=True,
    )
    try:
        stop.wait(args.duration if args.duration > 0 else None)
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
        if in_main:
            signal.signal(signal.SIGTERM, previous)
    stats = listener.stats
    print(f"stopped: {stats.received} received, {stats.refused} refused, {stats.echoes} echoes")
    return 0


def run_send(args: argparse.Namespace) -> int:
    from usegan.dicomnet.scu import SendError
    from usegan.dicomnet.sendback import SendBackError, send_case
    from usegan.settings import get_settings
    from usegan.store import NotFoundError, StoreBusyError, open_store

    settings = get_settings()
    destination = _destination(args, settings)
    try:
        store = open_store(settings, read_only=True)
    except StoreBusyError as exc:
        raise CommandError(f"{exc} (use the review page's send button while the app runs)") from exc
    with store:
        try:
            report = send_case(
                store, args.case_id, destination, calling_ae=args.calling_ae or settings.dicom_ae_title, mode=args.mode
            )
        except (SendBackError, SendError, NotFoundError) as exc:
            raise CommandError(str(exc)) from exc
    print(report.summary())
    return 0


def run_echo(args: argparse.Namespace) -> int:
    from usegan.dicomnet.scu import echo
    from usegan.settings import get_settings

    settings = get_settings()
    destination = _destination(args, settings)
    if not echo(destination, calling_ae=args.calling_ae or settings.dicom_ae_title):
        raise CommandError(f"no C-ECHO answer from {destination}")
    print(f"{destination}: C-ECHO ok")
    return 0
