"""`triton-console provision`: Provision the EKS cluster and serving stack."""

from __future__ import annotations

from console.cli._unbuilt import register_unbuilt


def register(subparsers) -> None:
    register_unbuilt(subparsers, "provision", "Provision the EKS cluster and serving stack", "the provisioning issue")
