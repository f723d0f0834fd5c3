# ---------------------------------------------------------------- NVIDIA device plugin
# Advertises nvidia.com/gpu on the g5 nodes (it tolerates their taint).
resource "helm_release" "nvidia_device_plugin" {
  name             = "nvidia-device-plugin"
  namespace        = "nvidia-device-plugin"
  create_namespace = true
  repository       = "https://nvidia.github.io/k8s-device-plugin"
  chart            = "nvidia-device-plugin"
  version          = "0.17.0"

  values = [yamlencode({
    nodeSelector = { NodeGroupType = "gpu" }
    tolerations  = [{ key = "nvidia.com/gpu", operator = "Exists", effect = "NoSchedule" }]
  })]
  depends_on = [module.eks]
}

# ---------------------------------------------------------------- storage: gp3 by default
# EKS 1.30+ no longer marks gp2 as the default class, so gp3 is the only default.
resource "kubernetes_storage_class_v1" "gp3" {
  metadata {
    name        = "gp3"
    annotations = { "storageclass.kubernetes.io/is-default-class" = "true" }
  }
  storage_provisioner    = "ebs.csi.aws.com"
  reclaim_policy         = "Delete" # PVC deleted => EBS volume deleted (nothing keeps billing)
  allow_volume_expansion = true
  volume_binding_mode    = "WaitForFirstConsumer"
  parameters = {
    type      = "gp3"
    fsType    = "ext4"
    encrypted = "true"
  }
  depends_on = [module.eks]
}

# ---------------------------------------------------------------- Prometheus + Grafana
# The Grafana admin password is generated here and kept in Secrets Manager (never in outputs).
resource "random_password" "grafana" {
  length           = 24
  special          = true
  override_special = "@_-"
}

resource "aws_secretsmanager_secret" "grafana" {
  name_prefix             = "${var.name}-grafana-"
  description             = "Grafana admin password for the ${var.name} cluster"
  recovery_window_in_days = 0 # teardown deletes it for good; no 30-day orphan
}

resource "aws_secretsmanager_secret_version" "grafana" {
  secret_id     = aws_secretsmanager_secret.grafana.id
  secret_string = random_password.grafana.result
}

resource "helm_release" "kube_prometheus_stack" {
  name             = "kube-prometheus-stack"
  namespace        = "kube-prometheus-stack"
  create_namespace = true
  repository       = "https://prometheus-community.github.io/helm-charts"
  chart            = "kube-prometheus-stack"
  version          = "66.3.1"
  timeout          = 900

  values = [yamlencode({
    prometheus = {
      prometheusSpec = {
        # Pick up ServiceMonitors from every namespace and release (our chart's included).
        serviceMonitorSelectorNilUsesHelmValues = false
        podMonitorSelectorNilUsesHelmValues     = false
        retention                               = "7d"
        nodeSelector                            = { NodeGroupType = "core" }
        storageSpec = {
          volumeClaimTemplate = {
            spec = {
              storageClassName = kubernetes_storage_class_v1.gp3.metadata[0].name
              accessModes      = ["ReadWriteOnce"]
              resources        = { requests = { storage = "50Gi" } }
            }
          }
        }
      }
    }
    grafana = {
      nodeSelector = { NodeGroupType = "core" }
      sidecar = {
        dashboards = { enabled = true, label = "grafana_dashboard", labelValue = "1", searchNamespace = "ALL" }
      }
    }
  })]

  set_sensitive {
    name  = "grafana.adminPassword"
    value = random_password.grafana.result
  }
  depends_on = [module.eks, kubernetes_storage_class_v1.gp3]
}

# Serves triton_queue_compute_ratio per pod to the HPA (rule and rationale in the values file).
resource "helm_release" "prometheus_adapter" {
  name       = "prometheus-adapter"
  namespace  = "kube-prometheus-stack"
  repository = "https://prometheus-community.github.io/helm-charts"
  chart      = "prometheus-adapter"
  version    = "4.11.0"
  values     = [file("${path.module}/../helm/prometheus-adapter/values.yaml")]
  depends_on = [helm_release.kube_prometheus_stack]
}
