"""The up-sampling stages before and after they became one transposed conv, timed in turns in one process.

    .venv/bin/python bench/upsampling_ab.py                      # bundled strain model, 256 px, 2 threads
    .venv/bin/python bench/upsampling_ab.py --no-compile --rounds 2

``UpBlock`` runs nearest x2 + 3x3 conv as one stride-2 transposed conv in eval mode and the plain pair in train mode
(same weights, same function; docs/benchmarks.md). This script times both paths of the same generator, eager
(fp32 + channels_last, what the app serves on a CPU without AMX) and through ``usegan.inference.compile_generator``,
taking turns so that load on the machine hits both alike. Prints the median of each round and of the rounds.
"""

from __future__ import annotations

import argparse
import copy
import statistics


def main() -> None:
    import torch

    from usegan.bench import time_runs
    from usegan.checkpoint import load_generator
    from usegan.inference import compile_generator, compiling
    from usegan.models.layers import UpBlock

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="data/models/usegan-strain-v6.pt")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per path and round")
    parser.add_argument("--no-compile", action="store_true", help="time the eager paths only")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    new, _ = load_generator(args.model, "cpu")
    new.eval().requires_grad_(False)
    old = copy.deepcopy(new)
    for module in old.modules():
        if isinstance(module, UpBlock):
            module.train()  # the plain nearest x2 + conv path; the rest of the generator has no train-only layers
    x = torch.rand(1, 1, args.size, args.size) * 2 - 1
    xc = x.contiguous(memory_format=torch.channels_last)
    runs = {
        "before, eager channels_last": (copy.deepcopy(old).to(memory_format=torch.channels_last), xc),
        "now, eager channels_last": (copy.deepcopy(new).to(memory_format=torch.channels_last), xc),
    }
    if not args.no_compile:
        runs["before, compiled"] = (compile_generator(old), x)
        runs["now, compiled"] = (compile_generator(new), x)

    def median_ms(model, inp) -> float:
        return statistics.median(time_runs(model, inp, args.repeats)) * 1000

    results: dict[str, list[float]] = {name: [] for name in runs}
    with compiling(), torch.inference_mode():
        for model, inp in runs.values():
            model(inp)  # compiles the compiled ones before any timing
        for _ in range(args.rounds):
            for name, (model, inp) in runs.items():
                results[name].append(median_ms(model, inp))
    for name, times in results.items():
        print(f"{name:30} {statistics.median(times):7.1f} ms  (rounds: {', '.join(f'{t:.1f}' for t in times)})")


if __name__ == "__main__":
    main()
