"""A kmock API server in its own process for the P5 benchmark: N nodes, M Triton pods.

Prints the URL on stdout, then serves until stdin closes. PATCH/POST over plain HTTP change it.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.kube_cluster import (DEPLOYMENTS, HPAS, NAMESPACE, NODES, PODS, KubeCluster, core_node,  # noqa: E402
                                deployment, gpu_node, hpa, triton_pod)


def main(nodes: int, pods: int) -> None:
    cluster = KubeCluster().start()
    objects = []
    for i in range(nodes):
        name = f"ip-10-0-{i // 250}-{i % 250}.us-west-2.compute.internal"
        objects.append((NODES, None, gpu_node(name, "g5.12xlarge", 4) if i % 2 else core_node(name)))
    for i in range(pods):
        node = f"ip-10-0-{(2 * (i % (nodes // 2)) + 1) // 250}-{(2 * (i % (nodes // 2)) + 1) % 250}.us-west-2.compute.internal"
        objects.append((PODS, NAMESPACE, triton_pod(f"triton-vllm-5d9c7b8f6d-{i:05d}", node, restarts=0)))
    objects += [(DEPLOYMENTS, NAMESPACE, deployment(pods, pods)), (HPAS, NAMESPACE, hpa(pods, pods, 1, pods))]
    cluster.load(objects)
    print(cluster.url, flush=True)
    sys.stdin.read()
    cluster.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
