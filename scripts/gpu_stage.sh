#!/usr/bin/env bash
# A GPU stage of the bundled models on a lent GPU machine: its training set simulated there, its runs side by side
# for a time budget, then the checkpoints and logs gathered under $OUT (the device tool brings back at most 8 files).
#   OUT=/tmp/out BUDGET=430 bash scripts/gpu_stage.sh
# STAGE=phantom2 (default; stage 6, v4): INIT is a folder of <run>.pt the bundled runs start from (first leg: copies
# of data/models/usegan-{strain,swe}-v3.pt named strain-v4.pt / swe-v4.pt; second leg: the first leg's).
# STAGE=phantom3 (stage 8, GPU candidates tried once): RUNS=strain-gpu-dg,strain-gpu-control,swe-gpu-dg and INIT a
# folder holding copies of strain v4 and SWE v5 (then bundled) named after those runs. RUNS (comma-separated) and
# CASES are optional.
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
OUT=${OUT:?set OUT} BUDGET=${BUDGET:-430} WORK=${WORK:-/tmp/usegan-v4} CASES=${CASES:-3000}
STAGE=${STAGE:-phantom2} RUNS=${RUNS:-strain-v4,swe-v4,eq-usegan,eq-unet} INIT=${INIT:+--v4-init-dir $INIT}
case $STAGE in
  phantom2) ONLY=--phantom2-only;; phantom3) ONLY=--phantom3-gpu-only;;
  *) echo "STAGE must be phantom2 or phantom3, got '$STAGE'" >&2; exit 2;;
esac
mkdir -p "$OUT" "$WORK"
{ nvidia-smi -L || true; python3 -c "import sys, torch, numpy, scipy, skimage; print(sys.version.split()[0], torch.__version__,
  torch.cuda.is_available(), numpy.__version__, scipy.__version__, skimage.__version__)"; nproc; } 2>&1 | tee "$OUT/env.txt"
timeout $((BUDGET + 170)) python3 scripts/train_bundled_models.py --work "$WORK" "$ONLY" "$RUNS" \
  --v4-budget-s "$BUDGET" --v4-cases "$CASES" --workers "$(nproc)" $INIT >"$OUT/stage.log" 2>&1
echo "stage exit $?" | tee -a "$OUT/stage.log"
for run in $(echo $RUNS | tr , ' '); do
  case $run in eq-*) ;; *) [ -f "$WORK/$run/last.pt" ] && cp "$WORK/$run/last.pt" "$OUT/$run.pt";; esac
done
# the equal-budget pair: the largest snapshot both runs reached (constant learning rate, same steps)
common=$(comm -12 <(ls "$WORK/eq-usegan" 2>/dev/null | grep -o '^step_[0-9]*' | sort) \
                  <(ls "$WORK/eq-unet" 2>/dev/null | grep -o '^step_[0-9]*' | sort) | sort -t_ -k2 -n | tail -1)
if [ -n "$common" ]; then
  cp "$WORK/eq-usegan/$common.pt" "$OUT/eq-usegan-$common.pt"; cp "$WORK/eq-unet/$common.pt" "$OUT/eq-unet-$common.pt"
fi
tar czf "$OUT/runs.tgz" -C "$WORK" --exclude='*.pt' --exclude=phantom2-train $(echo $RUNS | tr , ' ') 2>/dev/null
for run in $(echo $RUNS | tr , ' '); do
  echo "$run: $(grep -h '"event": "done"' "$WORK/$run/log.jsonl" 2>/dev/null | tail -1) $(tail -c 300 "$WORK/$run/train.stderr.log" 2>/dev/null | tail -2)"
done
ls -la "$OUT"
