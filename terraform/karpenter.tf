# Karpenter launches the workload nodes: NodePool `gpu` (g5 family, tainted nvidia.com/gpu)
# for Triton and NodePool `cpu` for everything else that does not fit the core group.
module "karpenter" {
  source  = "terraform-aws-modules/eks/aws//modules/karpenter"
  version = "~> 20.31"

  cluster_name          = module.eks.cluster_name
  enable_v1_permissions = true
  namespace             = "kube-system"

  node_iam_role_use_name_prefix   = false
  node_iam_role_name              = "${var.name}-karpenter-node"
  create_pod_identity_association = true

  node_iam_role_additional_policies = {
    AmazonSSMManagedInstanceCore = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
  }
}

data "aws_ecrpublic_authorization_token" "token" {
  provider = aws.ecr_public
}

resource "helm_release" "karpenter" {
  name                = "karpenter"
  namespace           = "kube-system"
  repository          = "oci://public.ecr.aws/karpenter"
  repository_username = data.aws_ecrpublic_authorization_token.token.user_name
  repository_password = data.aws_ecrpublic_authorization_token.token.password
  chart               = "karpenter"
  version             = var.karpenter_version
  wait                = true

  values = [yamlencode({
    nodeSelector = { NodeGroupType = "core" }
    settings = {
      clusterName       = module.eks.cluster_name
      clusterEndpoint   = module.eks.cluster_endpoint
      interruptionQueue = module.karpenter.queue_name
    }
  })]
}

resource "kubectl_manifest" "karpenter_node_class" {
  yaml_body = yamlencode({
    apiVersion = "karpenter.k8s.aws/v1"
    kind       = "EC2NodeClass"
    metadata   = { name = "default" }
    spec = {
      amiSelectorTerms = [{ alias = "al2023@latest" }]
      role             = module.karpenter.node_iam_role_name
      subnetSelectorTerms = [{ tags = { "karpenter.sh/discovery" = var.name } }]
      securityGroupSelectorTerms = [{ tags = { "karpenter.sh/discovery" = var.name } }]
      # Room for the vLLM image (~10 GB) and its layers; weights live on the PVC.
      blockDeviceMappings = [{
        deviceName = "/dev/xvda"
        ebs        = { volumeSize = "200Gi", volumeType = "gp3", encrypted = true, deleteOnTermination = true }
      }]
      tags = local.tags
    }
  })
  depends_on = [helm_release.karpenter, aws_ec2_tag.karpenter_pod_subnets]
}

locals {
  node_pools = {
    gpu = {
      labels = { NodeGroupType = "gpu" }
      taints = [{ key = "nvidia.com/gpu", value = "true", effect = "NoSchedule" }]
      requirements = [
        { key = "karpenter.k8s.aws/instance-family", operator = "In", values = ["g5"] },
        { key = "node.kubernetes.io/instance-type", operator = "In", values = var.gpu_instance_types },
        { key = "karpenter.sh/capacity-type", operator = "In", values = [var.gpu_capacity_type] },
        { key = "topology.kubernetes.io/zone", operator = "In", values = local.azs },
      ]
      limits = { cpu = tostring(var.gpu_pool_vcpu_limit), "nvidia.com/gpu" = "16" }
      # A GPU node with nothing on it is expensive: give it back after 5 minutes empty.
      disruption = { consolidationPolicy = "WhenEmpty", consolidateAfter = "300s" }
    }
    cpu = {
      labels = { NodeGroupType = "cpu" }
      taints = []
      requirements = [
        { key = "karpenter.k8s.aws/instance-category", operator = "In", values = ["c", "m", "r"] },
        { key = "karpenter.k8s.aws/instance-generation", operator = "Gt", values = ["4"] },
        { key = "karpenter.sh/capacity-type", operator = "In", values = ["spot", "on-demand"] },
        { key = "topology.kubernetes.io/zone", operator = "In", values = local.azs },
      ]
      limits     = { cpu = "64" }
      disruption = { consolidationPolicy = "WhenEmptyOrUnderutilized", consolidateAfter = "60s" }
    }
  }
}

resource "kubectl_manifest" "karpenter_node_pool" {
  for_each = local.node_pools
  yaml_body = yamlencode({
    apiVersion = "karpenter.sh/v1"
    kind       = "NodePool"
    metadata   = { name = each.key }
    spec = {
      template = {
        metadata = { labels = each.value.labels }
        spec = {
          nodeClassRef = { group = "karpenter.k8s.aws", kind = "EC2NodeClass", name = "default" }
          requirements = each.value.requirements
          taints       = each.value.taints
          expireAfter  = "720h"
        }
      }
      limits     = each.value.limits
      disruption = each.value.disruption
    }
  })
  depends_on = [kubectl_manifest.karpenter_node_class]
}
