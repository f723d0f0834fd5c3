"""The teardown plan: every step, and every resource that will go with what it bills per hour.

Making a plan only reads (Kubernetes lists, AWS describes, terraform files); nothing changes.
The same plan is what ``--dry-run`` prints, what the Teardown screen shows before the operator
types the cluster name, and what :func:`console.core.teardown.run.run_teardown` executes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from console.core import paths
from console.core.teardown import kube_stages, terraform_stage
from console.core.teardown.inventory import Clients, Inventory, discover

log = logging.getLogger(__name__)

STAGES = ("load-balancers", "volumes", "nodepools", "terraform", "sweep")


@dataclass
class Target:
    """Which cluster to tear down, and how to reach it."""

    cluster: str
    region: str
    profile: str = ""
    terraform_dir: Path = field(default_factory=lambda: paths.repo_root() / "terraform")
    terraform_bin: str | None = None
    api_client: Any = None  # kubernetes.client.ApiClient; None when the cluster cannot be reached
    kube_note: str = ""  # why there is no api_client
    session: Any = None  # boto3.Session; made from profile/region when None

    def clients(self) -> Clients:
        import boto3

        if self.session is None:
            self.session = boto3.Session(profile_name=self.profile or None, region_name=self.region)
        return Clients(self.region, self.session)


@dataclass(frozen=True)
class PlanItem:
    what: str  # "Service triton-vllm/lb", "nat-gateway nat-0abc", "module.eks"
    detail: str = ""
    hourly: float = 0.0


@dataclass
class Step:
    id: str  # one of STAGES
    title: str
    items: list[PlanItem] = field(default_factory=list)
    skip: str = ""  # non-empty: this step will not run, and why


@dataclass
class TeardownPlan:
    cluster: str
    region: str
    steps: list[Step]
    inventory: Inventory  # AWS resources tagged to the cluster now
    terraform_groups: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def hourly(self) -> float:
        """What the cluster's AWS resources bill per hour now (nodes are EC2 instances here)."""
        return self.inventory.hourly

    def step(self, stage: str) -> Step:
        return next(s for s in self.steps if s.id == stage)

    @property
    def aws_unreadable(self) -> bool:
        """AWS could not be read at all (no credentials, no network): nothing can be swept or verified."""
        from console.core.teardown.inventory import FINDERS

        return len(self.inventory.errors) >= len(FINDERS)

    def billing_text(self) -> str:
        if self.inventory.errors:
            known = f"at least ${self.hourly:.2f}/h" if self.inventory.resources else "unknown"
            return f"{known} (AWS could not be read for {len(self.inventory.errors)} kind(s))"
        return f"${self.hourly:.2f}/h (${self.hourly * 24:.2f}/day)"

    @property
    def nothing_to_do(self) -> bool:
        return not self.inventory.resources and not self.inventory.errors and all(not s.items for s in self.steps)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "region": self.region,
            "hourly": round(self.hourly, 4),
            "steps": [
                {"id": s.id, "title": s.title, "skip": s.skip, "items": [{"what": i.what, "detail": i.detail, "hourly": round(i.hourly, 4)} for i in s.items]}
                for s in self.steps
            ],
            "aws": [r.as_dict() for r in self.inventory.resources],
            "aws_errors": self.inventory.errors,
        }

    def render_text(self) -> str:
        lines = [f"Teardown plan for cluster {self.cluster} in {self.region}", ""]
        for number, step in enumerate(self.steps, 1):
            lines.append(f"{number}. {step.title}" + (f"  [skipped: {step.skip}]" if step.skip else ""))
            for item in step.items:
                cost = f"${item.hourly:.3f}/h" if item.hourly else ""
                lines.append(f"     - {item.what:<58} {item.detail[:40]:<40} {cost:>10}")
            if not step.items and not step.skip:
                lines.append("     (could not look: see below)" if step.id == "sweep" and self.inventory.errors else "     (nothing found)")
        for kind, why in self.inventory.errors.items():
            lines.append(f"   ! could not list {kind}: {why}")
        lines += ["", f"Billing now: {self.billing_text()} for the AWS resources above."]
        return "\n".join(lines)


def kube_reachable(api_client: Any) -> str:
    """'' when the API server answers, else why not (cluster gone, no network, no credentials)."""
    if api_client is None:
        return "no connection to the cluster"
    from kubernetes import client

    try:
        client.VersionApi(api_client).get_code(_request_timeout=10)
    except client.ApiException as exc:
        if exc.status in (401, 403):
            return f"the cluster refused our credentials (HTTP {exc.status})"
        if not exc.status:
            return f"cluster unreachable ({exc.reason})"
        return ""  # it answered: reachable, whatever it thinks of /version
    except Exception as exc:  # noqa: BLE001 - no answer at all, whatever the cause
        return f"cluster unreachable ({type(exc).__name__})"
    return ""


def make_plan(target: Target) -> TeardownPlan:
    """Look at the cluster, terraform and AWS; change nothing."""
    kube_skip = target.kube_note or kube_reachable(target.api_client)
    steps = [
        Step("load-balancers", "Delete LoadBalancer Services and Ingresses; wait until their load balancers are gone"),
        Step("volumes", "Delete PersistentVolumeClaims while the EBS CSI driver still runs"),
        Step("nodepools", "Delete Karpenter NodePools; wait until their nodes are gone"),
        Step("terraform", "terraform destroy: add-ons → eks → vpc → the rest"),
        Step("sweep", f"Sweep AWS resources tagged to {target.cluster}; verify nothing is left"),
    ]
    by_id = {s.id: s for s in steps}
    if kube_skip:
        for stage in ("load-balancers", "volumes", "nodepools"):
            by_id[stage].skip = kube_skip
    else:
        api = target.api_client
        try:
            by_id["load-balancers"].items = [PlanItem(f"{o.kind} {o.ref}", o.detail, o.hourly) for o in kube_stages.load_balancer_objects(api)]
            by_id["volumes"].items = [
                PlanItem(f"PVC {o.ref}", o.detail, o.hourly) for o in kube_stages.persistent_volume_claims(api) if o.namespace not in kube_stages.SYSTEM_NAMESPACES
            ]
            by_id["nodepools"].items = [PlanItem(f"NodePool {o.name}", o.detail, o.hourly) for o in kube_stages.nodepools(api, target.region)]
        except Exception as exc:  # noqa: BLE001 - a cluster that fails mid-listing is treated as unreachable
            for stage in ("load-balancers", "volumes", "nodepools"):
                by_id[stage].skip = f"cluster listing failed ({type(exc).__name__}: {str(exc)[:80]})"
                by_id[stage].items = []
    tf = terraform_stage.situation(target.terraform_dir, target.terraform_bin)
    if tf.runnable:
        by_id["terraform"].items = [PlanItem(f"destroy {group}", " ".join(targets)) for group, targets in tf.groups] + [
            PlanItem("destroy the rest", "everything else in the terraform state")
        ]
    else:
        by_id["terraform"].skip = tf.why_not
    inventory = discover(target.clients(), target.cluster)
    by_id["sweep"].items = [PlanItem(r.label, r.detail, r.hourly) for r in inventory.resources]
    return TeardownPlan(target.cluster, target.region, steps, inventory, tf.groups)
