variable "region" {
  description = "AWS region for every resource (install.sh/cleanup.sh and the console pass it as TF_VAR_region)."
  type        = string
  default     = "us-west-2"
}

variable "name" {
  description = "Name of the cluster and prefix of everything created (the console's aws.cluster)."
  type        = string
  default     = "nvidia-triton-server"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.name))
    error_message = "name: lowercase letters, digits and dashes, 2-31 characters, starting with a letter."
  }
}

variable "cluster_version" {
  description = "EKS Kubernetes version: one in standard support (extended support costs $0.60/h instead of $0.10/h)."
  type        = string
  default     = "1.35"
  validation {
    condition     = can(regex("^1\\.[0-9]+$", var.cluster_version))
    error_message = "cluster_version looks like 1.35."
  }
}

variable "karpenter_version" {
  description = "Karpenter chart version; must support cluster_version (1.11 supports Kubernetes 1.29-1.35)."
  type        = string
  default     = "1.11.1"
}

variable "vpc_cidr" {
  description = "Primary VPC CIDR (nodes, load balancers)."
  type        = string
  default     = "10.1.0.0/21"
}

variable "secondary_cidr" {
  description = "Secondary VPC CIDR for pod IPs (VPC CNI custom networking range), carved into one subnet per AZ."
  type        = string
  default     = "100.64.0.0/16"
}

variable "core_instance_type" {
  description = "Instance type of the core managed node group (system pods, Karpenter, monitoring)."
  type        = string
  default     = "m5.xlarge"
}

variable "core_node_count" {
  description = "Nodes in the core managed node group."
  type        = number
  default     = 2
}

variable "gpu_instance_types" {
  description = "GPU instance types Karpenter may launch for the `gpu` NodePool (g5 family: NVIDIA A10G)."
  type        = list(string)
  default     = ["g5.12xlarge", "g5.24xlarge"]
  validation {
    condition     = length(var.gpu_instance_types) > 0 && alltrue([for t in var.gpu_instance_types : startswith(t, "g5.")])
    error_message = "gpu_instance_types must be g5 instance types (the GPU NodePool is the g5 family)."
  }
}

variable "gpu_capacity_type" {
  description = "on-demand or spot for GPU nodes."
  type        = string
  default     = "on-demand"
  validation {
    condition     = contains(["on-demand", "spot"], var.gpu_capacity_type)
    error_message = "gpu_capacity_type is on-demand or spot."
  }
}

variable "gpu_pool_vcpu_limit" {
  description = "Most vCPUs the GPU NodePool may run at once (keep it within the account's G-instance vCPU quota, L-DB2E81BA)."
  type        = number
  default     = 96
}

variable "models" {
  description = "Models Triton loads from the model repository (directories under model_repository/)."
  type        = list(string)
  default     = ["llama2", "mistral7b"]
}

variable "gpus_per_pod" {
  description = "GPUs one Triton pod requests (one per model by default)."
  type        = number
  default     = 2
}

variable "model_repository_dir" {
  description = "Local model repository synced to S3 on every apply."
  type        = string
  default     = "../model_repository"
}

variable "huggingface_token" {
  description = "Hugging Face token with access to the gated models (export TF_VAR_huggingface_token)."
  type        = string
  sensitive   = true
  validation {
    condition     = length(trimspace(var.huggingface_token)) > 8 && !contains(["hf_xxx", "changeme", "<your huggingface token>"], lower(trimspace(var.huggingface_token)))
    error_message = "huggingface_token is unset or a placeholder: export TF_VAR_huggingface_token=hf_..."
  }
}

variable "triton_values_file" {
  description = "Extra values file for the Triton chart (e.g. ../helm/triton-vllm/values-production.yaml); empty for none."
  type        = string
  default     = ""
}

variable "tags" {
  description = "Extra tags on every AWS resource."
  type        = map(string)
  default     = {}
}
