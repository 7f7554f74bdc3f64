#!/usr/bin/env bash
# Deploys lambda-eks to an existing EKS cluster in one command: preflight, build, sam deploy, cluster access, RBAC,
# and one test invocation. Safe to run again. Progress goes to stderr; stdout gets only the function's JSON result.
#
# Usage: ./deploy.sh <cluster-name> [--region R] [--stack-name S] [--namespace N] [--no-invoke]
set -euo pipefail

readonly KUBERNETES_GROUP=lambda-deployers
readonly INVOKE_WAIT_SECONDS=${LAMBDA_EKS_INVOKE_WAIT_SECONDS:-60}
readonly INVOKE_INTERVAL_SECONDS=${LAMBDA_EKS_INVOKE_INTERVAL_SECONDS:-5}

usage() {
  echo "usage: $0 <cluster-name> [--region R] [--stack-name S] [--namespace N] [--no-invoke]" >&2
  exit 2
}
step() { echo "==> $*" >&2; }
info() { echo "    $*" >&2; }
die() {
  echo "deploy.sh: error: $*" >&2
  exit 1
}

cluster=''
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
stack=''
namespace=default
invoke=true
while (($# > 0)); do
  case "$1" in
    --region) (($# >= 2)) || usage; region=$2; shift 2 ;;
    --stack-name) (($# >= 2)) || usage; stack=$2; shift 2 ;;
    --namespace) (($# >= 2)) || usage; namespace=$2; shift 2 ;;
    --no-invoke) invoke=false; shift ;;
    -h | --help) usage ;;
    -*) echo "deploy.sh: unknown option $1" >&2; usage ;;
    *) [[ -z $cluster ]] || usage; cluster=$1; shift ;;
  esac
done
[[ -n $cluster ]] || usage
stack=${stack:-lambda-eks-$cluster}

cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Preflight ---------------------------------------------------------------------------------------------------------
step "Preflight"
command -v aws > /dev/null || die "the AWS CLI (aws) is not installed: https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
command -v sam > /dev/null || die "the AWS SAM CLI (sam) is not installed: https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html"
if [[ -z $region ]]; then
  region=$(aws configure get region 2> /dev/null || true)
fi
[[ -n $region ]] || die "no AWS region: pass --region or set AWS_REGION"
caller=$(aws sts get-caller-identity --query Arn --output text 2> "$tmp/sts.err") \
  || die "AWS credentials do not work ($(tr '\n' ' ' < "$tmp/sts.err")); configure them (aws configure, AWS_PROFILE or SSO login)"
info "AWS identity: $caller"

describe() {
  aws eks describe-cluster --name "$cluster" --region "$region" --output text --query "$1"
}
cluster_info=$(describe 'cluster.[status,endpoint,accessConfig.authenticationMode,resourcesVpcConfig.endpointPublicAccess,resourcesVpcConfig.endpointPrivateAccess,resourcesVpcConfig.vpcId,resourcesVpcConfig.clusterSecurityGroupId]' 2> "$tmp/eks.err") \
  || die "cannot describe EKS cluster '$cluster' in $region: $(tr '\n' ' ' < "$tmp/eks.err")"
IFS=$'\t' read -r status endpoint auth_mode public_access private_access vpc_id cluster_sg <<< "$cluster_info"
[[ $status == ACTIVE ]] || die "cluster '$cluster' is $status, not ACTIVE; try again when it is"
ca_data=$(describe 'cluster.certificateAuthority.data')
[[ $auth_mode == None || -z $auth_mode ]] && auth_mode=CONFIG_MAP
info "cluster $cluster: ACTIVE, endpoint $endpoint, authentication mode $auth_mode"

access_entry=true
[[ $auth_mode == CONFIG_MAP ]] && access_entry=false

vpc_overrides=()
if [[ $public_access != True && $private_access == True ]]; then
  subnets=$(describe 'cluster.resourcesVpcConfig.subnetIds' | tr '\t' ',')
  vpc_overrides=("SubnetIds=$subnets" "VpcId=$vpc_id" "ClusterSecurityGroupId=$cluster_sg")
  info "the endpoint is private: the function will run in $vpc_id ($subnets)"
fi

# 2. Build -------------------------------------------------------------------------------------------------------------
step "Building the function"
./build-handler.sh >&2

# 3. Deploy ------------------------------------------------------------------------------------------------------------
step "Deploying stack $stack to $region"
sam deploy \
  --template-file template.yml \
  --stack-name "$stack" \
  --region "$region" \
  --resolve-s3 \
  --capabilities CAPABILITY_IAM \
  --no-fail-on-empty-changeset \
  --parameter-overrides \
  "ClusterName=$cluster" \
  "ClusterEndpoint=$endpoint" \
  "ClusterCaData=$ca_data" \
  "Namespace=$namespace" \
  "KubernetesGroup=$KUBERNETES_GROUP" \
  "CreateAccessEntry=$access_entry" \
  "${vpc_overrides[@]}" >&2 \
  || die "sam deploy failed; see the CloudFormation events above (aws cloudformation describe-stack-events --stack-name $stack --region $region)"

output() {
  aws cloudformation describe-stacks --stack-name "$stack" --region "$region" --output text \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue"
}
function_name=$(output FunctionName)
role_arn=$(output RoleArn)
info "function $function_name, role $role_arn"

# 4. Cluster access ----------------------------------------------------------------------------------------------------
step "Mapping the function's role to Kubernetes group $KUBERNETES_GROUP"
if [[ $access_entry == true ]]; then
  info "the stack created an EKS access entry for $role_arn"
else
  mapping=(eksctl create iamidentitymapping --cluster "$cluster" --region "$region" --arn "$role_arn" --group "$KUBERNETES_GROUP" --username lambda-eks)
  if command -v eksctl > /dev/null; then
    if eksctl get iamidentitymapping --cluster "$cluster" --region "$region" --arn "$role_arn" > /dev/null 2>&1; then
      info "aws-auth already maps $role_arn"
    else
      "${mapping[@]}" >&2 || die "eksctl could not update aws-auth; run it as a cluster admin: ${mapping[*]}"
    fi
  else
    info "cluster $cluster uses the aws-auth ConfigMap (CONFIG_MAP mode) and eksctl is not installed. As a cluster admin, run:"
    info "  ${mapping[*]}"
  fi
fi

# 5. RBAC --------------------------------------------------------------------------------------------------------------
step "Granting create on deployments.apps in namespace $namespace (permissions.yml)"
apply_hint="kubectl apply -n $namespace -f permissions.yml"
if command -v kubectl > /dev/null; then
  kubeconfig="$tmp/kubeconfig"
  if aws eks update-kubeconfig --name "$cluster" --region "$region" --kubeconfig "$kubeconfig" > /dev/null 2>&1 \
    && kubectl --kubeconfig "$kubeconfig" auth can-i create roles.rbac.authorization.k8s.io -n "$namespace" > /dev/null 2>&1; then
    kubectl --kubeconfig "$kubeconfig" apply -n "$namespace" -f permissions.yml >&2 || die "kubectl apply failed; run: $apply_hint"
  else
    info "you cannot create RBAC Roles in $namespace (or reach the cluster); ask a cluster admin to run: $apply_hint"
  fi
else
  info "kubectl is not installed; as a cluster admin, run: $apply_hint"
fi

# 6. Invoke ------------------------------------------------------------------------------------------------------------
if [[ $invoke == false ]]; then
  step "Done (not invoked). Invoke with: aws lambda invoke --function-name $function_name --region $region --payload fileb://events/default.json out.json"
  exit 0
fi
step "Invoking $function_name"
deadline=$((SECONDS + INVOKE_WAIT_SECONDS))
# fileb:// sends the bytes as they are, with AWS CLI v1 and v2 alike.
echo '{}' > "$tmp/event.json"
while true; do
  aws lambda invoke --function-name "$function_name" --region "$region" --payload "fileb://$tmp/event.json" \
    "$tmp/result.json" > "$tmp/invoke.json" || die "aws lambda invoke failed"
  if ! grep -q '"FunctionError"' "$tmp/invoke.json"; then
    cat "$tmp/result.json"
    echo
    step "Done"
    exit 0
  fi
  # Access entries and RBAC changes take a moment to reach the API server: retry what they explain.
  if grep -Eq '"errorType": ?"Cluster(Authentication|Authorization)Error"' "$tmp/result.json" && ((SECONDS < deadline)); then
    info "not authorised yet (the access mapping may still be propagating); retrying in ${INVOKE_INTERVAL_SECONDS}s"
    sleep "$INVOKE_INTERVAL_SECONDS"
    continue
  fi
  cat "$tmp/result.json" >&2
  echo >&2
  die "the function failed; the errorType and message above say what to fix (README, Troubleshooting)"
done
