"""DICOM load: N concurrent scanners x M images each into the listener on 127.0.0.1, then ingest them all.

    .venv/bin/python bench/dicom_load.py                      # 4 senders x 100 images, 480x640 8-bit gray
    .venv/bin/python bench/dicom_load.py --senders 2 --images 20 --rows 256 --columns 256   # quicker

Runs in a temporary data directory (removed afterwards). Checks that every image was acknowledged, spooled and
ingested into exactly one case, and prints receive throughput (images/s, MB/s) and ingest throughput.
Exits 1 if anything was lost.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def make_images(n: int, rows: int, columns: int, seed: int) -> list:
    """``n`` Ultrasound Image Storage datasets (MONOCHROME2, 8-bit, Explicit VR LE) with speckle-like pixels."""
    import numpy as np
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    from usegan.dicomnet.contexts import ULTRASOUND_IMAGE_STORAGE

    rng = np.random.default_rng(seed)
    study, series, patient = generate_uid(), generate_uid(), f"LOAD-{seed:03d}"
    images = []
    for i in range(n):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = ULTRASOUND_IMAGE_STORAGE
        ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientID = study, series, patient
        ds.Modality, ds.InstanceNumber, ds.BodyPartExamined = "US", i + 1, "BREAST"
        ds.Rows, ds.Columns, ds.SamplesPerPixel = rows, columns, 1
        ds.PhotometricInterpretation = "MONOCHROME2"
        ds.BitsAllocated = ds.BitsStored = 8
        ds.HighBit, ds.PixelRepresentation = 7, 0
        ds.PixelData = np.clip(rng.rayleigh(40.0, (rows, columns)), 0, 255).astype(np.uint8).tobytes()
        images.append(ds)
    return images


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--senders", type=int, default=4, help="concurrent associations (scanners)")
    parser.add_argument("--images", type=int, default=100, help="images per sender")
    parser.add_argument("--rows", type=int, default=480)
    parser.add_argument("--columns", type=int, default=640)
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="usegan-dicom-load-") as tmp:
        os.environ["USEGAN_DATA_DIR"] = tmp
        from usegan.dicomnet.ingest import ingest_spool
        from usegan.dicomnet.scp import ListenerConfig, StoreListener
        from usegan.dicomnet.scu import Destination, send_datasets
        from usegan.dicomnet.spool import list_spool
        from usegan.settings import get_settings
        from usegan.store import open_store

        settings = get_settings()
        batches = [make_images(args.images, args.rows, args.columns, seed) for seed in range(args.senders)]
        total = args.senders * args.images
        megabytes = total * args.rows * args.columns / 1e6
        config = ListenerConfig.from_settings(settings, host="127.0.0.1", port=0, max_associations=args.senders)
        results: list[list] = [[] for _ in range(args.senders)]
        errors: list[str] = []
        with StoreListener(config) as listener:
            destination = Destination("127.0.0.1", listener.port, config.ae_title)

            def sender(index: int) -> None:
                try:
                    results[index] = send_datasets(
                        batches[index], destination, calling_ae=f"SCANNER{index}", raise_on_failure=False
                    )
                except Exception as exc:  # reported below; the benchmark must not hang on one failed sender
                    errors.append(f"sender {index}: {exc}")

            threads = [threading.Thread(target=sender, args=(i,)) for i in range(args.senders)]
            t0 = time.perf_counter()
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            receive_s = time.perf_counter() - t0
        acknowledged = sum(r.ok for batch in results for r in batch)
        spooled = len(list_spool(settings.inbox_dir))
        t1 = time.perf_counter()
        with open_store(settings) as store:
            report = ingest_spool(store, settings)
            cases = store.counts()["total"]
        ingest_s = time.perf_counter() - t1
        numbers = {
            "senders": args.senders,
            "images_per_sender": args.images,
            "image": f"{args.columns}x{args.rows} 8-bit gray",
            "acknowledged": acknowledged,
            "spooled": spooled,
            "ingested": len(report.imported),
            "cases": cases,
            "quarantined": len(report.quarantined),
            "receive_s": round(receive_s, 2),
            "receive_images_per_s": round(total / receive_s, 1),
            "receive_MB_per_s": round(megabytes / receive_s, 1),
            "ingest_s": round(ingest_s, 2),
            "ingest_images_per_s": round(total / ingest_s, 1),
            "errors": errors,
        }
    if args.json:
        print(json.dumps(numbers))
    else:
        for key, value in numbers.items():
            print(f"{key:>22}: {value}")
    complete = acknowledged == spooled == len(report.imported) == cases == total and not errors
    if not complete:
        print(f"LOST IMAGES: {total} sent, {acknowledged} acknowledged, {spooled} spooled, {cases} cases")
    return 0 if complete else 1


if __name__ == "__main__":
    sys.exit(main())
