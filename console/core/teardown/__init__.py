"""Guided teardown: plan (read only) → typed confirmation → staged deletion → verified report.

- :mod:`.ownership` — the tag rule that decides what belongs to a cluster
- :mod:`.inventory` — find the cluster's AWS resources with their $/h
- :mod:`.kube_stages` — LoadBalancer Services/Ingresses, PVCs, Karpenter NodePools
- :mod:`.terraform_stage` — ordered ``terraform destroy``
- :mod:`.sweep` — delete what is still tagged to the cluster, until nothing is
- :mod:`.plan`, :mod:`.run`, :mod:`.report` — tie them together
"""
