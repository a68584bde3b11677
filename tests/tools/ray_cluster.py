"""Run by a vLLM environment's Python: a Ray cluster of two nodes on this machine (one CPU
each; ``ray.cluster_utils.Cluster``, real raylets), ``tools/ray_batch.py`` on it as a user runs
it, then the cluster stopped (its own processes only).

    python tests/tools/ray_cluster.py RAY_BATCH_ARGS...
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "tools" / "ray_batch.py"
#: Each node's object store (bytes): small, the machine is shared.
OBJECT_STORE = 300_000_000


def main(args: list[str]) -> int:
    from ray.cluster_utils import Cluster

    node = {"num_cpus": 1, "object_store_memory": OBJECT_STORE}
    cluster = Cluster(initialize_head=True, head_node_args={**node, "include_dashboard": False})
    try:
        cluster.add_node(**node)
        cluster.wait_for_nodes()
        command = [sys.executable, str(SCRIPT), *args, "--address", cluster.address]
        return subprocess.run(command, timeout=1200).returncode
    finally:
        cluster.shutdown()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
