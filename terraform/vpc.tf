# Two AZs. The primary CIDR holds the core nodes, NAT and load balancers; the secondary
# 100.64/16 range gives the workload (Karpenter's GPU/CPU nodes and their pods, which take
# IPs from their node's subnet with prefix delegation) two large /17 subnets, so pods never
# exhaust the small primary range.
module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "~> 5.16"

  name = var.name
  cidr = var.vpc_cidr
  azs  = local.azs

  secondary_cidr_blocks = [var.secondary_cidr]

  # Per AZ: a /24 private node subnet from the primary range, then a /17 pod subnet from
  # the secondary range; public /26 subnets for NAT and load balancers.
  private_subnets = concat(
    [for k, _ in local.azs : cidrsubnet(var.vpc_cidr, 3, k)],
    [for k, _ in local.azs : cidrsubnet(var.secondary_cidr, 1, k)],
  )
  public_subnets = [for k, _ in local.azs : cidrsubnet(var.vpc_cidr, 5, k + 8)]

  enable_nat_gateway = true
  single_nat_gateway = true

  public_subnet_tags = {
    "kubernetes.io/role/elb" = 1
  }
  private_subnet_tags = {
    "kubernetes.io/role/internal-elb" = 1
  }
}

locals {
  node_subnet_ids = slice(module.vpc.private_subnets, 0, length(local.azs))
  pod_subnet_ids  = slice(module.vpc.private_subnets, length(local.azs), 2 * length(local.azs))
}

# Karpenter discovers the subnets it launches into by this tag: only the secondary-CIDR ones.
resource "aws_ec2_tag" "karpenter_pod_subnets" {
  for_each    = toset(local.pod_subnet_ids)
  resource_id = each.value
  key         = "karpenter.sh/discovery"
  value       = var.name
}
