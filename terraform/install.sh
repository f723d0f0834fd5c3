#!/usr/bin/env bash
# Provision the blueprint without the console: VPC, then EKS, then everything else
# (the same stages `triton-console provision` runs). Re-running resumes where it stopped.
#
#   export AWS_REGION=us-west-2                  # or AWS_DEFAULT_REGION
#   export TF_VAR_huggingface_token=hf_...       # a real token with access to both models
#   ./install.sh
set -euo pipefail
cd "$(dirname "$0")"

die() { echo "install.sh: $*" >&2; exit 1; }

for tool in terraform aws kubectl; do
  command -v "$tool" >/dev/null || die "$tool is not installed (see README: Provisioning)"
done

REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-}}"
[ -n "$REGION" ] || die "set AWS_REGION (or AWS_DEFAULT_REGION) to the region to deploy into"
export TF_VAR_region="$REGION"
export AWS_REGION="$REGION" AWS_DEFAULT_REGION="$REGION"

TOKEN="${TF_VAR_huggingface_token:-}"
case "$(printf '%s' "$TOKEN" | tr '[:upper:]' '[:lower:]')" in
  ""|hf_xxx|changeme|xxx|"<your huggingface token>"|"<"*)
    die "TF_VAR_huggingface_token is unset or a placeholder: export TF_VAR_huggingface_token=hf_... (a token with access to Llama-2-7b-chat-hf and Mistral-7B-Instruct-v0.2)";;
esac

aws sts get-caller-identity --query Account --output text >/dev/null \
  || die "AWS credentials do not work (aws sts get-caller-identity failed)"

echo "Deploying to region $REGION"
terraform init -upgrade -input=false

for target in module.vpc module.eks; do
  echo "==> terraform apply -target=$target"
  terraform apply -target="$target" -auto-approve -input=false \
    || die "apply of $target failed; fix the error above and run ./install.sh again (it resumes)"
done

echo "==> terraform apply (everything else)"
terraform apply -auto-approve -input=false \
  || die "apply failed; fix the error above and run ./install.sh again (it resumes)"

echo
echo "Done. Configure kubectl with:"
echo "  $(terraform output -raw configure_kubectl)"
