#!/usr/bin/env bash
# Terraform end to end: the hashicorp/aws provider (from a local filesystem
# mirror, no network) manages a continuous-deployment trio on a freshly
# started `stagefront serve`, with scripts/terraform/main.tf:
#
#   apply (OAC, staging, SingleHeader policy, enabled primary)  → plan shows no changes
#   apply (policy attached to the primary)                       → plan shows no changes
#   apply (SingleWeight 0.15 with stickiness)                    → plan shows no changes
#   destroy                                                      → nothing left in the API
#
# The provider waits about 30 s before its first status poll after each
# distribution write, so a run takes several minutes: it is not part of
# scripts/test.sh. Run it after any change to the API:
#
#   scripts/terraform-conformance.sh
#
# Environment: TF_PROVIDER_MIRROR (default: /opt/tf-plugins, else the first
# directory holding registry.terraform.io/hashicorp/aws), KEEP_WORK=1 keeps
# the temporary directory (state, server log).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

command -v terraform >/dev/null || { echo "terraform is not installed"; exit 1; }
MIRROR=${TF_PROVIDER_MIRROR:-}
if [[ -z $MIRROR ]]; then
  if [[ -d /opt/tf-plugins/registry.terraform.io/hashicorp/aws ]]; then
    MIRROR=/opt/tf-plugins
  else
    found=$(find / -path '*registry.terraform.io/hashicorp/aws/*' -name 'terraform-provider-aws*' 2>/dev/null | head -n1 || true)
    [[ -n $found ]] || { echo "no filesystem mirror of hashicorp/aws found; set TF_PROVIDER_MIRROR"; exit 1; }
    MIRROR=${found%%/registry.terraform.io/*}
  fi
fi

# shellcheck source=scripts/lib/serve.sh
source scripts/lib/serve.sh
serve_start AKSFTERRAFORM000001 terraform-secret-key-0123456789abcdefghi

# Terraform's own files (CLI config, plugin cache, state) stay in $WORK.
mkdir -p "$WORK/tf"
cp -r scripts/terraform/main.tf scripts/terraform/distribution "$WORK/tf/"
cat >"$WORK/terraformrc" <<RC
provider_installation {
  filesystem_mirror {
    path    = "$MIRROR"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/*/*"]
  }
}
RC
export TF_CLI_CONFIG_FILE="$WORK/terraformrc" TF_DATA_DIR="$WORK/tf/.terraform" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
export TF_VAR_endpoint=$EP
TF="terraform -chdir=$WORK/tf"

FAIL=0
step() { # step NAME COMMAND...: runs and times one step
  local name=$1; shift
  local start=$SECONDS
  if "$@" >"$WORK/step.log" 2>&1; then
    printf 'ok   %-40s %4ds\n' "$name" $((SECONDS - start))
  else
    local rc=$?
    printf 'FAIL %-40s %4ds (exit %d)\n' "$name" $((SECONDS - start)) "$rc"
    tail -n 60 "$WORK/step.log"
    FAIL=1
    return 1
  fi
}
no_changes() { # plan -detailed-exitcode: 0 means no changes, 2 means a diff
  local rc=0
  $TF plan -input=false -no-color -detailed-exitcode -var "stage=$1" >"$WORK/plan.log" 2>&1 || rc=$?
  if [[ $rc -ne 0 ]]; then
    cat "$WORK/plan.log"
    return "$rc"
  fi
}
left_in_api() {
  local n
  n=$(aws cloudfront --endpoint-url "$EP" list-distributions --query 'length(DistributionList.Items || `[]`)' --output text)
  n=$((n + $(aws cloudfront --endpoint-url "$EP" list-continuous-deployment-policies --query 'length(ContinuousDeploymentPolicyList.Items || `[]`)' --output text)))
  n=$((n + $(aws cloudfront --endpoint-url "$EP" list-origin-access-controls --query 'length(OriginAccessControlList.Items || `[]`)' --output text)))
  echo "$n"
}

TOTAL=$SECONDS
step "init (filesystem mirror $MIRROR)" $TF init -input=false -no-color
for stage in create attach weight; do
  step "apply stage=$stage" $TF apply -input=false -no-color -auto-approve -var "stage=$stage" || break
  step "plan stage=$stage shows no changes" no_changes "$stage" || break
done
step "destroy" $TF destroy -input=false -no-color -auto-approve -var "stage=weight" || true
left=$(left_in_api)
if [[ $left == 0 ]]; then
  echo "ok   nothing left in the API"
else
  echo "FAIL $left resources left in the API"
  FAIL=1
fi
echo "total $((SECONDS - TOTAL))s"
if [[ $FAIL != 0 ]]; then
  echo "--- server log (last 40 lines)"
  tail -n 40 "$WORK/server.log"
  exit 1
fi
echo PASS
