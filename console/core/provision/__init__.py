"""Provisioning the EKS deployment: preflight checks, cost estimate, the staged terraform apply.

Headless (no textual): the CLI and the Provision screen both drive these modules.
"""
