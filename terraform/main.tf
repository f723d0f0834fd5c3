data "aws_availability_zones" "available" {
  state = "available"
  filter {
    name   = "opt-in-status"
    values = ["opt-in-not-required"]
  }
}

data "aws_caller_identity" "current" {}

locals {
  azs       = slice(data.aws_availability_zones.available.names, 0, 2)
  namespace = "triton-vllm"
  tags = merge(var.tags, {
    Blueprint  = var.name
    ManagedBy  = "terraform"
    GithubRepo = "triton-console"
    # what `triton-console teardown` sweeps by (console/core/teardown/ownership.py)
    "triton-console/cluster" = var.name
  })
}
