"""Fine-tuning: archived, signed cases with a real elastogram fine-tune the model, safely.

* :mod:`.pairs`: training pairs from the store, split fixed at creation, snapshots, a torch Dataset;
* :mod:`.run` (+ :mod:`.loop`, :mod:`.validate`): fine-tune the active model, evaluate, register;
* :mod:`.promotion`: promotion (refuses a worse candidate unless forced with a reason) and rollback;
* :mod:`.jobs`: background fine-tune jobs for the app (one at a time, progress, log).
"""
