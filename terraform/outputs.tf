output "configure_kubectl" {
  description = "Point kubectl at the new cluster."
  value       = "aws eks --region ${var.region} update-kubeconfig --name ${module.eks.cluster_name}"
}

output "cluster_name" {
  description = "EKS cluster name."
  value       = module.eks.cluster_name
}

output "region" {
  description = "AWS region of the cluster."
  value       = var.region
}

output "model_repository_bucket" {
  description = "S3 bucket holding the Triton model repository."
  value       = aws_s3_bucket.model_repository.id
}

output "grafana_secret_name" {
  description = "Secrets Manager secret with the Grafana admin password (aws secretsmanager get-secret-value --secret-id ...)."
  value       = aws_secretsmanager_secret.grafana.name
}
