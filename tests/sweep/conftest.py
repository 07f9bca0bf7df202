"""Sweep fixtures: a two-node Ray test cluster on loopback (helpers live in ``sweep_helpers``).

The Ray cluster binds 127.0.0.1 only (``RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`` makes Ray pick the loopback address,
and every node is given ``node_ip_address`` explicitly), reports no usage statistics and starts no dashboard; each of
its two nodes has one CPU and a custom resource (``node_a``, ``node_b``) so placement is visible. It is started once
per session and shut down (all its processes) at the end.
"""

from __future__ import annotations

import os

import pytest

# Before anything imports ray: loopback only, no usage report.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"

@pytest.fixture(scope="session")
def ray_cluster():
    """Two one-CPU nodes on 127.0.0.1 (custom resources node_a, node_b); the test process is the driver."""
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    common = {"node_ip_address": "127.0.0.1", "object_store_memory": 100 * 1024 * 1024}
    cluster = Cluster(initialize_head=True, head_node_args={
        **common, "num_cpus": 1, "resources": {"node_a": 1}, "include_dashboard": False})
    cluster.add_node(**common, num_cpus=1, resources={"node_b": 1})
    cluster.wait_for_nodes()
    ray.init(address=cluster.address, log_to_driver=False, logging_level="warning")
    try:
        yield cluster
    finally:
        ray.shutdown()
        cluster.shutdown()
