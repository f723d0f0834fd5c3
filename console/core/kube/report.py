"""The cluster picture as plain text (``triton-console status``): the Cluster screen's tables, once."""

from __future__ import annotations

from console.core.kube.model import age
from console.core.kube.monitor import ClusterPicture


def money(value: float | None) -> str:
    return "?" if value is None else f"${value:,.3f}"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in rows]
    return lines


def node_cells(n) -> list[str]:  # noqa: ANN001 - NodeRow
    return [n.name, n.ready, n.instance_type, n.capacity_type, n.pool or "-",
            f"{n.gpus_requested}/{n.gpus_allocatable}" if n.gpus_allocatable else "-",
            f"{n.cpu:g}", f"{n.memory_gib:g}Gi", age(n.created), money(n.price_per_hour)]


NODE_HEADERS = ["NAME", "STATUS", "TYPE", "CAPACITY", "POOL", "GPU req/alloc", "CPU", "MEMORY", "AGE", "$/h"]
POD_HEADERS = ["NAME", "READY", "STATUS", "RESTARTS", "NODE", "GPU", "AGE"]


def pod_cells(p) -> list[str]:  # noqa: ANN001 - PodRow
    return [p.name, p.ready, p.status, str(p.restarts), p.node or "-", str(p.gpus), age(p.created)]


def render(picture: ClusterPicture) -> str:
    gpus_alloc, gpus_req = picture.gpus
    out = [f"Cluster {picture.context}  namespace {picture.namespace}  at {picture.taken_at}",
           f"Nodes {len(picture.nodes)}  GPUs {gpus_req}/{gpus_alloc} requested  "
           f"burn {money(picture.hourly_cost)}/h" + (f" (+{picture.unpriced_nodes} unpriced)" if picture.unpriced_nodes else ""),
           ""]
    out += ["NODES"] + _table(NODE_HEADERS, [node_cells(n) for n in picture.nodes]) + [""]
    out += [f"PODS ({picture.namespace})"] + _table(POD_HEADERS, [pod_cells(p) for p in picture.pods]) + [""]
    for d in picture.deployments:
        out.append(f"DEPLOYMENT {d.name}: {d.ready}/{d.replicas} ready, {d.updated} updated, {d.available} available")
    for h in picture.hpas:
        flag = "  ** AT MAX REPLICAS **" if h.at_max else ""
        out.append(f"HPA {h.name} -> {h.target}: current {h.current} desired {h.desired} min {h.min} max {h.max}{flag}")
        for m in h.metrics:
            out.append(f"  metric {m.name}: {m.current} / target {m.target}")
        for c in h.conditions:
            out.append(f"  {c.type}={c.status} {c.reason}: {c.message}")
    if picture.deployments or picture.hpas:
        out.append("")
    if picture.karpenter:
        for pool in picture.nodepools:
            out.append(f"NODEPOOL {pool.name}: types {','.join(pool.instance_types) or 'any'}; "
                       f"capacity {','.join(pool.capacity_types) or 'any'}; limits {pool.limits}; using {pool.usage}")
        for claim in picture.nodeclaims:
            out.append(f"NODECLAIM {claim.name} ({claim.pool}): {claim.instance_type} {claim.state} -> {claim.node or '-'}")
        out.append("")
    out.append("EVENTS (warnings first)")
    out += _table(["TYPE", "REASON", "OBJECT", "COUNT", "LAST", "MESSAGE"],
                  [[e.type, e.reason, e.object, str(e.count), age(e.last_seen), e.message[:100]] for e in picture.events[:15]])
    unhealthy = {k: v for k, v in picture.watches.items() if not v.startswith(("watching", "listing", "absent"))}
    if unhealthy:
        out += ["", "WATCHES: " + "; ".join(f"{k} {v}" for k, v in unhealthy.items())]
    return "\n".join(out) + "\n"
