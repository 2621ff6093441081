#!/usr/bin/env bash
# Stage 6 of the bundled models (v4) on a lent GPU machine: phantom-2 data, four runs side by side for a time
# budget, then the checkpoints and logs gathered under $OUT (the device tool brings back at most 8 files).
#   OUT=/tmp/out BUDGET=430 bash scripts/gpu_stage.sh
# INIT: a folder of <run>.pt the bundled runs start from (first leg: copies of data/models/usegan-{strain,swe}-v3.pt
# named strain-v4.pt / swe-v4.pt; second leg: the first leg's). RUNS (comma-separated) and CASES are optional.
set -u
export PYTHONUNBUFFERED=1 PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
OUT=${OUT:?set OUT} BUDGET=${BUDGET:-430} WORK=${WORK:-/tmp/usegan-v4} CASES=${CASES:-3000}
RUNS=${RUNS:-strain-v4,swe-v4,eq-usegan,eq-unet} INIT=${INIT:+--v4-init-dir $INIT}
mkdir -p "$OUT" "$WORK"
{ nvidia-smi -L; python3 -c "import sys, torch, numpy, scipy, skimage; print(sys.version.split()[0], torch.__version__,
  torch.cuda.is_available(), numpy.__version__, scipy.__version__, skimage.__version__)"; nproc; } 2>&1 | tee "$OUT/env.txt"
timeout $((BUDGET + 110)) python3 scripts/train_bundled_models.py --work "$WORK" --phantom2-only "$RUNS" \
  --v4-budget-s "$BUDGET" --v4-cases "$CASES" --workers "$(nproc)" $INIT >"$OUT/stage.log" 2>&1
echo "stage exit $?" | tee -a "$OUT/stage.log"
for run in strain-v4 swe-v4; do [ -f "$WORK/$run/last.pt" ] && cp "$WORK/$run/last.pt" "$OUT/$run.pt"; done
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
