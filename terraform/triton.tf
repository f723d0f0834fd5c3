# ---------------------------------------------------------------- model repository in S3
resource "aws_s3_bucket" "model_repository" {
  bucket_prefix = "${var.name}-models-"
  force_destroy = true # teardown removes the synced objects with the bucket
}

resource "aws_s3_bucket_public_access_block" "model_repository" {
  bucket                  = aws_s3_bucket.model_repository.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_server_side_encryption_configuration" "model_repository" {
  bucket = aws_s3_bucket.model_repository.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm = "AES256"
    }
  }
}

# Every apply uploads changed files of the local model_repository/ for the served models and
# removes objects whose local file is gone (terraform owns each object).
locals {
  model_files = toset(flatten([
    for m in var.models : [for f in fileset("${path.module}/${var.model_repository_dir}/${m}", "**") : "${m}/${f}"
    if !strcontains(f, "__pycache__")]
  ]))
}

resource "aws_s3_object" "model_repository" {
  for_each = local.model_files
  bucket   = aws_s3_bucket.model_repository.id
  key      = "model_repository/${each.value}"
  source   = "${path.module}/${var.model_repository_dir}/${each.value}"
  etag     = filemd5("${path.module}/${var.model_repository_dir}/${each.value}")
}

# ---------------------------------------------------------------- namespace, HF token
resource "kubernetes_namespace_v1" "triton" {
  metadata {
    name = local.namespace
  }
  depends_on = [module.eks]
}

resource "kubernetes_secret_v1" "huggingface_token" {
  metadata {
    name      = "huggingface-token"
    namespace = kubernetes_namespace_v1.triton.metadata[0].name
  }
  data = {
    HF_TOKEN = var.huggingface_token
  }
}

# ---------------------------------------------------------------- IRSA: read this bucket only
data "aws_iam_policy_document" "triton_s3" {
  statement {
    sid       = "ListModelRepository"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = [aws_s3_bucket.model_repository.arn]
  }
  statement {
    sid       = "ReadModelRepository"
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.model_repository.arn}/*"]
  }
}

resource "aws_iam_policy" "triton_s3" {
  name_prefix = "${var.name}-triton-s3-"
  description = "Triton reads its model repository bucket, nothing else"
  policy      = data.aws_iam_policy_document.triton_s3.json
}

data "aws_iam_policy_document" "triton_assume" {
  statement {
    actions = ["sts:AssumeRoleWithWebIdentity"]
    principals {
      type        = "Federated"
      identifiers = [module.eks.oidc_provider_arn]
    }
    condition {
      test     = "StringEquals"
      variable = "${module.eks.oidc_provider}:sub"
      values   = ["system:serviceaccount:${local.namespace}:triton-vllm"]
    }
    condition {
      test     = "StringEquals"
      variable = "${module.eks.oidc_provider}:aud"
      values   = ["sts.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "triton" {
  name_prefix        = "${var.name}-triton-"
  assume_role_policy = data.aws_iam_policy_document.triton_assume.json
}

resource "aws_iam_role_policy_attachment" "triton_s3" {
  role       = aws_iam_role.triton.name
  policy_arn = aws_iam_policy.triton_s3.arn
}

# ---------------------------------------------------------------- Triton from our chart
resource "helm_release" "triton" {
  name      = "triton-vllm"
  namespace = kubernetes_namespace_v1.triton.metadata[0].name
  chart     = "${path.module}/../helm/triton-vllm"
  wait      = false # the first start downloads weights for many minutes; the console watches it
  timeout   = 600

  values = concat(
    [yamlencode({
      modelRepository = {
        uri    = "s3://${aws_s3_bucket.model_repository.id}/model_repository"
        models = var.models
      }
      aws            = { region = var.region }
      huggingface    = { secretName = kubernetes_secret_v1.huggingface_token.metadata[0].name, secretKey = "HF_TOKEN" }
      serviceAccount = { create = true, name = "triton-vllm", roleArn = aws_iam_role.triton.arn }
      resources = {
        requests = { cpu = "6", memory = "48Gi", "nvidia.com/gpu" = var.gpus_per_pod }
        limits   = { memory = "48Gi", "nvidia.com/gpu" = var.gpus_per_pod }
      }
      weightsCache = { storageClass = kubernetes_storage_class_v1.gp3.metadata[0].name }
    })],
    var.triton_values_file == "" ? [] : [file(var.triton_values_file)],
  )

  depends_on = [
    aws_s3_object.model_repository,
    helm_release.nvidia_device_plugin,
    helm_release.prometheus_adapter,
    kubectl_manifest.karpenter_node_pool,
    aws_iam_role_policy_attachment.triton_s3,
  ]
}
