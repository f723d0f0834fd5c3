#!/usr/bin/env bash
# Tear the blueprint down without the console, in dependency order, then look for what
# Kubernetes created outside terraform (load balancers, PVC-backed EBS volumes, ENIs) so
# nothing keeps billing. Exit status 0 only when nothing is left.
#
#   export AWS_REGION=<region the cluster is in>   # or AWS_DEFAULT_REGION
#   ./cleanup.sh
set -euo pipefail
cd "$(dirname "$0")"

die() { echo "cleanup.sh: $*" >&2; exit 1; }
command -v terraform >/dev/null || die "terraform is not installed"
command -v aws >/dev/null || die "aws CLI is not installed"
command -v kubectl >/dev/null || die "kubectl is not installed"

REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
[ -n "$REGION" ] || die "set AWS_REGION (or AWS_DEFAULT_REGION) to the region the cluster is in"
export TF_VAR_region="$REGION" AWS_REGION="$REGION" AWS_DEFAULT_REGION="$REGION"
# Destroy does not need the real token, but the variable has no default.
export TF_VAR_huggingface_token="${TF_VAR_huggingface_token:-destroy-only-placeholder}"

terraform init -input=false >/dev/null

if ! OUTPUTS=$(terraform output -json 2>/dev/null) || [ "$OUTPUTS" = "{}" ]; then
  echo "No outputs found: this directory has no deployed cluster in its state (nothing to destroy here)."
  echo "If a cluster still runs, it was created from another checkout or its state is gone."
  exit 0
fi
CLUSTER=$(terraform output -raw cluster_name)
VPC_ID=$(terraform state show -no-color 'module.vpc.aws_vpc.this[0]' 2>/dev/null | awk -F'"' '/^ *id *=/ {print $2; exit}')
echo "Tearing down cluster $CLUSTER in $REGION"

# 1. Workloads first, with the cluster still up, so Kubernetes deletes what it created:
#    PVC-backed EBS volumes (reclaim policy Delete) and any Service load balancers.
if aws eks update-kubeconfig --region "$REGION" --name "$CLUSTER" >/dev/null 2>&1; then
  kubectl delete namespace triton-vllm --ignore-not-found --wait=true --timeout=10m || true
  kubectl get svc -A -o jsonpath='{range .items[?(@.spec.type=="LoadBalancer")]}{.metadata.namespace}{" "}{.metadata.name}{"\n"}{end}' \
    | while read -r ns name; do [ -n "$ns" ] && kubectl delete svc -n "$ns" "$name" --wait=true; done
  kubectl delete pvc -A --all --wait=true --timeout=10m || true
else
  echo "warning: cannot reach the cluster; Kubernetes-created resources are checked at the end"
fi

# 2. Terraform, in reverse order of install.sh. Between EKS and the VPC: network interfaces the
#    VPC CNI left behind (detached, "aws-K8S-..."), which would block deleting the subnets.
destroy_target() {
  echo "==> terraform destroy -target=$1"
  terraform destroy -target="$1" -auto-approve -input=false || die "destroy of $1 failed; run ./cleanup.sh again"
}
destroy_target helm_release.triton
destroy_target module.eks
if [ -n "$VPC_ID" ]; then
  for eni in $(aws ec2 describe-network-interfaces --region "$REGION" \
      --filters "Name=vpc-id,Values=$VPC_ID" "Name=status,Values=available" "Name=description,Values=aws-K8S-*" \
      --query 'NetworkInterfaces[].NetworkInterfaceId' --output text); do
    echo "deleting detached CNI network interface $eni"
    aws ec2 delete-network-interface --region "$REGION" --network-interface-id "$eni" || true
  done
fi
destroy_target module.vpc
echo "==> terraform destroy (everything left)"
terraform destroy -auto-approve -input=false || die "destroy failed; run ./cleanup.sh again"

# 3. Anything still billing that carries the cluster's tags or sits in its VPC.
LEFT=0
VOLS=$(aws ec2 describe-volumes --region "$REGION" \
  --filters "Name=tag:kubernetes.io/cluster/$CLUSTER,Values=owned" --query 'Volumes[].VolumeId' --output text)
[ -n "$VOLS" ] && { echo "EBS volumes left (delete: aws ec2 delete-volume --volume-id ID): $VOLS"; LEFT=1; }
LBS=$(aws elbv2 describe-load-balancers --region "$REGION" --query 'LoadBalancers[].LoadBalancerArn' --output text \
  | tr '\t' '\n' | while read -r arn; do
      [ -n "$arn" ] && aws elbv2 describe-tags --region "$REGION" --resource-arns "$arn" \
        --query "TagDescriptions[?Tags[?Key=='elbv2.k8s.aws/cluster' && Value=='$CLUSTER'] || Tags[?Key=='kubernetes.io/cluster/$CLUSTER']].ResourceArn" --output text
    done)
[ -n "$LBS" ] && { echo "Load balancers left: $LBS"; LEFT=1; }
if [ -n "$VPC_ID" ]; then
  ENIS=$(aws ec2 describe-network-interfaces --region "$REGION" --filters "Name=vpc-id,Values=$VPC_ID" \
    --query 'NetworkInterfaces[].NetworkInterfaceId' --output text 2>/dev/null || true)
  [ -n "$ENIS" ] && { echo "Network interfaces left in $VPC_ID (delete: aws ec2 delete-network-interface): $ENIS"; LEFT=1; }
fi
if [ "$LEFT" = 1 ]; then
  echo "Cleanup finished with leftovers above: they still bill until deleted."
  exit 1
fi
echo "Cleanup complete: nothing tagged for $CLUSTER is left in $REGION."
