#!/usr/bin/env bash
# Issue 26 on a lent GPU in one script: the CUDA tests, speed against the reference DCGAN, DDP, the presets at
# their real sizes and the step ablation, each step under its own `timeout`, all results in one folder.
#
#     bash benchmarks/gpu_check.sh part1   # tests, throughput, step ablation   (budget 465 s)
#     bash benchmarks/gpu_check.sh part2   # DDP, progressive growing, CycleGAN (budget 310 s, +60 s with 2+ GPUs)
#     bash benchmarks/gpu_check.sh all     # both, about 13 minutes
#
# A lease is about 15 minutes with at most 10 minutes a command, so each part fits one command. Variables:
# PYTHON (default python), OUT (default gpu-check/<UTC date>), GENLAB_DATA (default shared/data), REFERENCE (a
# copy of pytorch/examples' dcgan/main.py, default runs/reference/dcgan/main.py: runs/ is ignored by git, so the
# copy is never committed; carry it to the device machine, this script downloads nothing). Rerunning replaces
# each step's line in $OUT/summary.txt and its output. Without CUDA every GPU step is skipped with the reason
# and the script exits 0; otherwise it exits 1 when a step failed or ran out of time.
set -u
case ${1:-all} in
    part1 | part2 | all) ;;
    *) echo "usage: bash benchmarks/gpu_check.sh part1|part2|all" >&2; exit 2 ;;
esac
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PYTHON=${PYTHON:-python}
OUT=${OUT:-$ROOT/gpu-check/$(date -u +%Y-%m-%d)}
REFERENCE=$(realpath -m "${REFERENCE:-$ROOT/runs/reference/dcgan/main.py}")
export GENLAB_DATA=$(realpath -m "${GENLAB_DATA:-$ROOT/shared/data}")
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"
mkdir -p "$OUT" && OUT=$(cd "$OUT" && pwd)
cd "$ROOT" || exit 1
SUMMARY=$OUT/summary.txt
touch "$SUMMARY"
FAILED=0

record() { # NAME STATUS SECONDS NOTE: one line per step, replacing the line of an earlier run
    awk -F '\t' -v name="$1" '$1 != name' "$SUMMARY" >"$SUMMARY.tmp"
    printf '%s\t%s\t%ss\t%s\n' "$1" "$2" "$3" "$4" >>"$SUMMARY.tmp"
    mv "$SUMMARY.tmp" "$SUMMARY"
    echo "$1: $2 ($3 s) $4"
}

skip() { # NAME WHY
    record "$1" skipped 0 "$2"
}

step() { # NAME BUDGET_S COMMAND: runs COMMAND (a bash string) under `timeout`, its output in $OUT/NAME.log
    local name=$1 budget=$2 command=$3 start rc status
    if [ -n "$NO_CUDA" ]; then
        skip "$name" "$NO_CUDA"
        return
    fi
    start=$(date +%s)
    timeout --kill-after=10 "$budget" bash -c "$command" >"$OUT/$name.log" 2>&1
    rc=$?
    case $rc in
        0) status=ok ;;
        124 | 137) status="timed out (exit $rc)"; FAILED=1 ;;
        *) status="failed (exit $rc)"; FAILED=1 ;;
    esac
    record "$name" "$status" "$(($(date +%s) - start))" "budget ${budget}s, log $name.log"
}

environment() { # env.txt: the machine, driver, CUDA and torch versions, for every figure in RESULTS.md
    {
        echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "commit: $(git rev-parse HEAD 2>/dev/null || echo unknown)"
        echo "python: $PYTHON ($($PYTHON --version 2>&1))"
        $PYTHON -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "cudnn",
torch.backends.cudnn.version(), "available", torch.cuda.is_available(), "devices", torch.cuda.device_count())' 2>&1
        $PYTHON -c 'import torchvision; print("torchvision", torchvision.__version__)' 2>&1 | tail -1
        if command -v nvidia-smi >/dev/null; then
            nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv 2>&1
            nvidia-smi 2>&1
        else
            echo "nvidia-smi: not found"
        fi
    } >"$OUT/env.txt"
    record env ok 0 "env.txt"
}

CUDA=$($PYTHON -c 'import torch; print(torch.cuda.is_available())' 2>&1 | tail -1)
NO_CUDA=""
[ "$CUDA" = True ] || NO_CUDA="no CUDA: torch.cuda.is_available() gave '$CUDA'"
[ -z "$NO_CUDA" ] || echo "$NO_CUDA: every GPU step is skipped"
GPUS=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
FAST="--set accel.compile=true --set accel.precision=bf16 --set accel.channels_last=true"
FAST="$FAST --set model.g_optim.fused=true --set model.d_optim.fused=true"

throughput() { # BATCH STEPS WARMUP LABEL SETTINGS: genlab against the reference, FID of both after the same steps
    local name="throughput-b$1-$4"
    if [ -z "$NO_CUDA" ] && [ ! -f "$REFERENCE" ]; then
        skip "$name" "no reference script at $REFERENCE (copy pytorch/examples' dcgan/main.py there, never commit it)"
        return
    fi
    # budget 75 s each: two processes loading MNIST at 64x64, the window, 2 x 10,000 samples for FID (+compile)
    step "$name" 75 "rm -rf '$OUT/$name' && $PYTHON benchmarks/throughput.py --reference '$REFERENCE' \
        --device cuda --batch $1 --steps $2 --warmup $3 --fid --out '$OUT/$name' --json '$OUT/$name.json' $5"
}

ddp() { # 2 NCCL processes (SyncBatchNorm) with batch 32 against one with batch 64: the weights after 3 steps
    local quiet="--set train.steps=3 --set train.sample_every=0 --set train.report=false --set device=cuda"
    rm -rf "$OUT/ddp"
    $PYTHON -m torch.distributed.run --standalone --nproc_per_node 2 -m genlab train dcgan-mnist $quiet \
        --set train.batch_size=32 --out "$OUT/ddp/two" || return
    $PYTHON -m genlab train dcgan-mnist $quiet --set train.batch_size=64 --out "$OUT/ddp/one" || return
    $PYTHON - "$OUT/ddp/two" "$OUT/ddp/one" <<'EOF'
import sys

from genlab.train import RunDir
from genlab.train.checkpoint import load_checkpoint

two, one = (load_checkpoint(RunDir(d).latest_checkpoint())["recipe"]["networks"] for d in sys.argv[1:])
gap = max(
    float((two[n][k] - one[n][k]).abs().max() / (one[n][k].abs().max() + 1e-12))
    for n in one
    for k in one[n]
    if one[n][k].is_floating_point()
)
print(f"largest relative weight difference, 2 processes x batch 32 against 1 x 64: {gap:.2e} (passes below 1e-3)")
sys.exit(gap > 1e-3)
EOF
}
export -f ddp
export PYTHON OUT

part1() {
    # 120 s: tests/train/test_accel.py and every other test that skips without CUDA, with the skip reasons
    local gpu_tests
    gpu_tests=$(grep -rlE 'cuda\.is_available\(\)|mark\.(gpu|cuda)' tests --include='*.py' | grep -v test_gpu_check \
        | sort | tr '\n' ' ')
    step tests 120 "$PYTHON -m pytest -q -rs -p no:cacheprovider tests/train/test_accel.py $gpu_tests"
    # 4 x 75 s: eager defaults, then the fastest switches, at batch 64 and 256 (fewer steps at 256: the budget)
    throughput 64 300 50 eager ""
    throughput 64 300 50 fast "$FAST"
    throughput 256 120 20 eager ""
    throughput 256 120 20 fast "$FAST"
    # 45 s: one D + G step with each change in turn (the +compile row compiles in its untimed pairs)
    step step-ablation 45 "$PYTHON benchmarks/step_ablation.py --device cuda --rounds 30"
}

part2() {
    # 60 s, only with 2+ GPUs
    if [ -n "$NO_CUDA" ]; then
        skip ddp "$NO_CUDA"
    elif [ "$GPUS" -lt 2 ]; then
        skip ddp "nvidia-smi -L lists $GPUS GPU(s): DDP with NCCL needs 2, not run"
    else
        step ddp 60 ddp
    fi
    # 150 s: the presets' networks (width 64, preset batch sizes), the CPU run's shortened growth schedule
    # (16,000 images per fade and stable phase, 32x32 from step 1,750 of 4,000), FID of every 500th step
    step progressive 150 "rm -rf '$OUT/progressive' && $PYTHON benchmarks/progressive_speed.py --target-fid 10 \
        --steps 4000 --every 500 --n 5000 --device cuda --out '$OUT/progressive' --set model.growth.fade_images=16000 \
        --set model.growth.stable_images=16000"
    # 30 + 2 x 50 + 2 x 15 s: cyclegan-mnist at 32x32 (width 32, 3 blocks), 2,000 steps with and without the
    # identity loss, scored by a classifier of thickened 32x32 digits
    local runs="$OUT/cyclegan" quiet="--set device=cuda --set train.steps=2000 --set train.report=false"
    step cyclegan-classifier 30 "mkdir -p '$runs' && rm -f '$runs/classifier-thick.pt' \
        && $PYTHON -m genlab classifier train --data mnist \
        --set data.style=thicken --set data.size=32 --set train.steps=1500 --set device=cuda \
        --set name=classifier-mnist-thick --out '$runs/classifier-thick.pt'"
    step cyclegan-identity 50 "rm -rf '$runs/identity' && $PYTHON -m genlab train cyclegan-mnist $quiet \
        --out '$runs/identity'"
    step cyclegan-no-identity 50 "rm -rf '$runs/no-identity' && $PYTHON -m genlab train cyclegan-mnist $quiet \
        --set model.identity_weight=0 --out '$runs/no-identity'"
    step cyclegan-eval-identity 15 "$PYTHON benchmarks/cyclegan.py '$runs/identity' \
        --classifier '$runs/classifier-thick.pt' --device cuda"
    step cyclegan-eval-no-identity 15 "$PYTHON benchmarks/cyclegan.py '$runs/no-identity' \
        --classifier '$runs/classifier-thick.pt' --device cuda"
}

environment
case ${1:-all} in
    part1) part1 ;;
    part2) part2 ;;
    all) part1; part2 ;;
esac
echo "results in $OUT (summary.txt, env.txt, one log per step)"
exit $FAILED
