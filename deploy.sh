#!/usr/bin/env bash
# Deploys lambda-eks to an existing EKS cluster in one command: preflight, build, sam deploy, cluster access, RBAC,
# and one test invocation. Safe to run again. Progress goes to stderr; stdout gets only the function's JSON result.
# Runs on macOS's bash 3.2: no associative arrays, no ${var,,}, no mapfile, every possibly empty array guarded.
#
# Usage: ./deploy.sh --help
set -euo pipefail

readonly KUBERNETES_GROUP=lambda-deployers
readonly GRANTS='create,apply,observe,delete'
readonly GRANT_LABEL=lambda-eks/grant
readonly INVOKE_WAIT_SECONDS=${LAMBDA_EKS_INVOKE_WAIT_SECONDS:-60}
readonly INVOKE_INTERVAL_SECONDS=${LAMBDA_EKS_INVOKE_INTERVAL_SECONDS:-5}
# Exit codes: 0 done, 1 failed, 2 bad usage, 3 deployed but a cluster admin must finish (the commands are printed).
readonly EXIT_NEEDS_ADMIN=3

usage() {
  cat << EOF
usage: $0 <cluster-name> [options]

Deploys the lambda-eks function for an existing EKS cluster: sam deploy of template.yml, the function's access to the
cluster (EKS access entry, or aws-auth with eksctl), its RBAC grants (permissions.yml, with kubectl), then invokes it
once. Progress goes to stderr; stdout gets only the function's JSON result.

Options:
  --region R        AWS region of the cluster and the stack (default: \$AWS_REGION, else \$AWS_DEFAULT_REGION,
                    else 'aws configure get region')
  --stack-name S    CloudFormation stack name (default: lambda-eks-<cluster-name>, '_' replaced by '-')
  --namespace N     namespace the function deploys to by default, where the grants are applied (default: default)
  --grant LIST      RBAC grants to apply, comma-separated from $GRANTS (default: create)
                      create   create Deployments              (action "create")
                      apply    get, patch Deployments          (action "apply"; creating by apply also needs create)
                      observe  get Deployments, list pods and ReplicaSets (action "get", and "wait")
                      delete   get, delete Deployments         (action "delete")
  --grant-manifest FILE
                    a manifest of a set the function applies (apply-manifest): apply the RBAC that lets it apply,
                    prune, read and delete exactly that set (npm run grants). Repeat it for every manifest the set
                    has had since its grants were last applied (pruning needs the rights of what was removed).
                    Needs --set.
  --set S           the set's name, for --grant-manifest
  --set-namespace N the set's namespace (where its record lives), for --grant-manifest (default: --namespace)
  --manifest-bucket B
                    an S3 bucket whose objects sets may be read from (ManifestUrl): the function's role may then
                    s3:GetObject and s3:GetObjectVersion in it (default: the stack keeps what it has; none at first)
  --no-invoke       do not invoke the function at the end (default: invoke once with {})
  -h, --help        print this help and exit

Environment:
  AWS_REGION, AWS_DEFAULT_REGION        the region, when --region is not given
  LAMBDA_EKS_INVOKE_WAIT_SECONDS        how long to retry the invocation while access propagates (default: 60)
  LAMBDA_EKS_INVOKE_INTERVAL_SECONDS    seconds between those retries (default: 5)
  The aws, sam, eksctl and kubectl commands read their own settings (AWS_PROFILE, credentials, ...).

Exit status: 0 done; 1 failed; 2 bad usage; $EXIT_NEEDS_ADMIN deployed, but a cluster admin must run the printed commands.
EOF
}
usage_error() {
  echo "deploy.sh: $*" >&2
  echo "usage: $0 <cluster-name> [--region R] [--stack-name S] [--namespace N] [--grant LIST]" \
    "[--grant-manifest FILE ... --set S [--set-namespace N]] [--manifest-bucket B] [--no-invoke] (--help for more)" >&2
  exit 2
}
step() { echo "==> $*" >&2; }
info() { echo "    $*" >&2; }
die() {
  echo "deploy.sh: error: $*" >&2
  exit 1
}
warn() { echo "deploy.sh: warning: $*" >&2; }
# A file's text on one line, without the blank lines around it (AWS CLI v1 starts an error with an empty line).
one_line() {
  local text
  text=$(tr '\n' ' ' < "$1")
  text=${text#"${text%%[![:space:]]*}"}
  echo "${text%"${text##*[![:space:]]}"}"
}

cluster=''
region=${AWS_REGION:-${AWS_DEFAULT_REGION:-}}
stack=''
namespace=default
grant_list=create
grant_manifests=()
set_name=''
set_namespace=''
manifest_bucket=''
invoke=true
while (($# > 0)); do
  case "$1" in
    --region | --stack-name | --namespace | --grant | --grant-manifest | --set | --set-namespace | --manifest-bucket)
      if (($# < 2)) || [[ -z $2 || $2 == -* ]]; then
        usage_error "$1 needs a value"
      fi
      case "$1" in
        --region) region=$2 ;;
        --stack-name) stack=$2 ;;
        --namespace) namespace=$2 ;;
        --grant) grant_list=$2 ;;
        --grant-manifest)
          [[ -f $2 && -r $2 ]] || usage_error "--grant-manifest: cannot read file '$2'"
          # An absolute path: the script changes to its own directory before npm run grants reads it.
          case $2 in
            /*) grant_manifests+=("$2") ;;
            *) grant_manifests+=("$(pwd)/$2") ;;
          esac
          ;;
        --set) set_name=$2 ;;
        --set-namespace) set_namespace=$2 ;;
        --manifest-bucket) manifest_bucket=$2 ;;
      esac
      shift 2
      ;;
    --no-invoke) invoke=false; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) usage_error "unknown option $1" ;;
    *)
      [[ -z $cluster ]] || usage_error "unexpected argument '$1' (the cluster name is already '$cluster')"
      cluster=$1
      shift
      ;;
  esac
done
[[ -n $cluster ]] || usage_error "no cluster name"
# An EKS cluster name (CreateCluster): 1 to 100 letters, digits, '-' and '_', starting with a letter or digit.
cluster_pattern='^[0-9A-Za-z][-_0-9A-Za-z]*$'
if ! [[ $cluster =~ $cluster_pattern ]] || ((${#cluster} > 100)); then
  usage_error "invalid cluster name '$cluster': an EKS cluster name has letters, digits, '-' and '_' only, starts with a letter or digit, and has at most 100 characters"
fi

# The grants in their canonical order, each once; an unknown one is refused by name.
grants=''
IFS=',' read -r -a requested <<< "$grant_list"
for item in ${requested[@]+"${requested[@]}"}; do
  [[ ,$GRANTS, == *,"$item",* ]] || usage_error "--grant: unknown grant '$item' (choose from $GRANTS)"
done
for known in create apply observe delete; do
  for item in ${requested[@]+"${requested[@]}"}; do
    if [[ $item == "$known" ]]; then
      grants=${grants:+$grants,}$known
      break
    fi
  done
done
[[ -n $grants ]] || usage_error "--grant needs at least one of $GRANTS"
if [[ $grants == *,* ]]; then
  selector="$GRANT_LABEL in ($grants)"
else
  selector="$GRANT_LABEL=$grants"
fi

# A namespace is a DNS-1123 label (the template's Namespace parameter checks the same, but only at sam deploy).
namespace_pattern='^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'
[[ $namespace =~ $namespace_pattern ]] \
  || usage_error "invalid --namespace '$namespace': a namespace name has lower-case letters, digits and '-' only, starts and ends with a letter or digit, and has at most 63 characters"

# A set's grants: the set and its namespace are DNS-1123 labels, as the event's "set" and "namespace" are.
if ((${#grant_manifests[@]} > 0)); then
  [[ -n $set_name ]] || usage_error "--grant-manifest needs --set: the name of the set the manifests are applied as"
  [[ $set_name =~ $namespace_pattern ]] \
    || usage_error "invalid --set '$set_name': a set name has lower-case letters, digits and '-' only, starts and ends with a letter or digit, and has at most 63 characters"
  set_namespace=${set_namespace:-$namespace}
  [[ $set_namespace =~ $namespace_pattern ]] \
    || usage_error "invalid --set-namespace '$set_namespace': a namespace name has lower-case letters, digits and '-' only, starts and ends with a letter or digit, and has at most 63 characters"
elif [[ -n $set_name || -n $set_namespace ]]; then
  usage_error "--set and --set-namespace go with --grant-manifest FILE: the manifests of the set to grant"
fi

# An S3 bucket name (the template's ManifestBucket checks the same, but only at sam deploy).
bucket_pattern='^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$'
if [[ -n $manifest_bucket && ! $manifest_bucket =~ $bucket_pattern ]]; then
  usage_error "invalid --manifest-bucket '$manifest_bucket': an S3 bucket name has 3 to 63 lower-case letters, digits, '.' and '-'"
fi
# Sent only when given: sam deploy keeps the value a stack already has for a parameter it is not given.
bucket_overrides=()
[[ -z $manifest_bucket ]] || bucket_overrides=("ManifestBucket=$manifest_bucket")

# CloudFormation stack names: letters, digits and '-', starting with a letter, at most 128 characters (the API's
# CreateStack documentation). EKS cluster names may also hold '_', so the default replaces it; from a valid cluster
# name it is always a valid stack name (at most 11 + 100 characters).
if [[ -z $stack ]]; then
  stack=lambda-eks-${cluster//_/-}
else
  stack_pattern='^[A-Za-z][-A-Za-z0-9]*$'
  if ! [[ $stack =~ $stack_pattern ]] || ((${#stack} > 128)); then
    usage_error "invalid --stack-name '$stack': a stack name has letters, digits and '-' only, starts with a letter, and has at most 128 characters"
  fi
fi

cd "$(dirname "$0")"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# 1. Preflight ---------------------------------------------------------------------------------------------------------
step "Preflight"
missing=''
command -v aws > /dev/null \
  || missing="$missing"$'\n'"  aws (the AWS CLI): https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
command -v sam > /dev/null \
  || missing="$missing"$'\n'"  sam (the AWS SAM CLI): https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/install-sam-cli.html"
if ((${#grant_manifests[@]} > 0)); then
  command -v npm > /dev/null \
    || missing="$missing"$'\n'"  npm (with Node.js, for npm run grants and the build): https://nodejs.org/en/download"
fi
[[ -z $missing ]] || die "missing tools; install them and run again:$missing"
if [[ -z $region ]]; then
  region=$(aws configure get region 2> /dev/null || true)
fi
[[ -n $region ]] || die "no AWS region: pass --region or set AWS_REGION"
# A failure here is the network or the credentials; the AWS CLI's words tell them apart (botocore's connection
# errors, and macOS's and glibc's resolver errors; the errors STS and the credential providers answer with).
network_errors='Could not connect to the endpoint URL|Connect timeout on endpoint URL|Read timeout on endpoint URL|Failed to connect to proxy URL|Connection was closed before we received a valid response|Name or service not known|Temporary failure in name resolution|nodename nor servname provided|SSL'
credential_errors='ExpiredToken|InvalidClientTokenId|SignatureDoesNotMatch|Unable to locate credentials|AccessDenied|UnrecognizedClientException|[Cc]redential|SSO|[Tt]oken has expired|config profile'
if ! caller=$(aws sts get-caller-identity --region "$region" --query Arn --output text 2> "$tmp/sts.err"); then
  if grep -Eq "$network_errors" "$tmp/sts.err"; then
    die "cannot reach AWS STS in $region ($(one_line "$tmp/sts.err")): check your network connection and proxy" \
      "(HTTPS_PROXY, NO_PROXY, and AWS_CA_BUNDLE behind a TLS-inspecting proxy), and that $region is a region and" \
      "its STS endpoint (sts.$region.amazonaws.com) is reachable from here; then run deploy.sh again"
  elif grep -Eq "$credential_errors" "$tmp/sts.err"; then
    die "AWS credentials do not work ($(one_line "$tmp/sts.err")); configure them (aws configure, AWS_PROFILE or" \
      "SSO login: aws sso login) and run deploy.sh again"
  fi
  die "aws sts get-caller-identity failed in $region ($(one_line "$tmp/sts.err")); fix what it says and run deploy.sh again"
fi
info "AWS identity: $caller"

# One call; joins keep every field one tab-separated word ('-' for an empty list), so read splits them right.
cluster_info=$(aws eks describe-cluster --name "$cluster" --region "$region" --output text --query \
  "cluster.[status, endpoint, accessConfig.authenticationMode, resourcesVpcConfig.endpointPublicAccess, resourcesVpcConfig.endpointPrivateAccess, join(',', resourcesVpcConfig.publicAccessCidrs || \`[]\`) || '-', resourcesVpcConfig.vpcId, join(',', resourcesVpcConfig.subnetIds || \`[]\`) || '-', resourcesVpcConfig.clusterSecurityGroupId, certificateAuthority.data]" \
  2> "$tmp/eks.err") \
  || die "cannot describe EKS cluster '$cluster' in $region: $(one_line "$tmp/eks.err")"
IFS=$'\t' read -r status endpoint auth_mode public_access private_access public_cidrs vpc_id subnets cluster_sg ca_data \
  <<< "$cluster_info"
[[ $status == ACTIVE ]] || die "cluster '$cluster' is $status, not ACTIVE; try again when it is"
[[ $auth_mode == None || -z $auth_mode ]] && auth_mode=CONFIG_MAP
info "cluster $cluster: ACTIVE, endpoint $endpoint, authentication mode $auth_mode"

access_entry=true
[[ $auth_mode == CONFIG_MAP ]] && access_entry=false

# Lambda gives a function's network interfaces no public IP, so in a VPC it reaches S3 (to answer CloudFormation)
# only through a NAT gateway or the region's S3 gateway endpoint. Sets function_subnets to the cluster's subnets that
# give no public IPs and whose route table has an active route to one of those (a subnet without a route table of its
# own uses the VPC's main one); to all of them, with a warning, when none does or they cannot be read.
choose_subnets() {
  local s3_route subnet_list routes public_ips main_table main_to_s3 table is_main associated to_s3
  local id own_table own_to_s3 public sid maps chosen='' excluded=''
  function_subnets=$subnets
  if [[ $s3_prefix_list == pl-* ]]; then
    s3_route="DestinationPrefixListId=='$s3_prefix_list'"
  else
    s3_route="starts_with(GatewayId || '', 'vpce-')"
  fi
  IFS=',' read -r -a subnet_list <<< "$subnets"
  if ! routes=$(aws ec2 describe-route-tables --region "$region" --filters "Name=vpc-id,Values=$vpc_id" --output text \
    --query "RouteTables[].[RouteTableId, length(Associations[?Main]) > \`0\`, join(',', Associations[?SubnetId].SubnetId) || '-', length(Routes[?State=='active' && ((DestinationCidrBlock=='0.0.0.0/0' && NatGatewayId) || $s3_route)]) > \`0\`]" \
    2> "$tmp/routes.err"); then
    warn "cannot read the route tables of $vpc_id ($(one_line "$tmp/routes.err")): the function will run in all the" \
      "cluster's subnets ($subnets). Allow ec2:DescribeRouteTables so that deploy.sh picks those that reach S3, or" \
      "make sure each reaches S3 through a NAT gateway or an S3 gateway endpoint, or custom resource answers fail"
    return 0
  fi
  if ! public_ips=$(aws ec2 describe-subnets --region "$region" --subnet-ids ${subnet_list[@]+"${subnet_list[@]}"} \
    --output text --query 'Subnets[].[SubnetId, MapPublicIpOnLaunch]' 2> "$tmp/subnets.err"); then
    warn "cannot read the subnets $subnets ($(one_line "$tmp/subnets.err")): the function will run in all of them." \
      "Allow ec2:DescribeSubnets so that deploy.sh picks those that reach S3, or make sure each reaches S3 through" \
      "a NAT gateway or an S3 gateway endpoint, or custom resource answers fail"
    return 0
  fi
  main_table='' main_to_s3=False
  while IFS=$'\t' read -r table is_main associated to_s3; do
    if [[ $is_main == True ]]; then
      main_table=$table main_to_s3=$to_s3
    fi
  done <<< "$routes"
  for id in ${subnet_list[@]+"${subnet_list[@]}"}; do
    own_table=$main_table own_to_s3=$main_to_s3
    while IFS=$'\t' read -r table is_main associated to_s3; do
      if [[ ,$associated, == *,"$id",* ]]; then
        own_table=$table own_to_s3=$to_s3
      fi
    done <<< "$routes"
    public=False
    while IFS=$'\t' read -r sid maps; do
      if [[ $sid == "$id" ]]; then
        public=$maps
      fi
    done <<< "$public_ips"
    if [[ $public == True ]]; then
      excluded="${excluded:+$excluded, }$id (gives public IPs)"
    elif [[ $own_to_s3 != True ]]; then
      excluded="${excluded:+$excluded, }$id (${own_table:-no route table}: no route to a NAT gateway or an S3 gateway endpoint)"
    else
      chosen=${chosen:+$chosen,}$id
    fi
  done
  if [[ -z $chosen ]]; then
    warn "none of the cluster's subnets both gives no public IPs and reaches S3 through a NAT gateway or an S3" \
      "gateway endpoint: $excluded. The function will run in all of them ($subnets) and will not be able to answer" \
      "CloudFormation custom resources (direct invocations still work). Add a route to a NAT gateway or the S3" \
      "gateway endpoint to a private subnet's route table, and run deploy.sh again"
    return 0
  fi
  function_subnets=$chosen
  if [[ -n $excluded ]]; then
    info "not in the subnets that cannot reach S3 privately: $excluded"
  fi
}

# Outside a VPC, Lambda connects from AWS-owned public addresses that no cluster's publicAccessCidrs lists; only an
# unrestricted public endpoint (0.0.0.0/0) is reachable from there. With private access on, a function in the cluster's
# VPC reaches the private endpoint (EKS routes API requests from inside the VPC there).
vpc_overrides=()
public_open=false
# (No publicAccessCidrs at all is the API's default, 0.0.0.0/0.)
[[ $public_access == True && ( $public_cidrs == - || ,$public_cidrs, == *,0.0.0.0/0,* ) ]] && public_open=true
if [[ $public_open == false ]]; then
  if [[ $private_access == True ]]; then
    [[ $subnets != - ]] || die "cluster '$cluster' lists no subnets; cannot place the function in its VPC"
    # Answering a CloudFormation custom resource is a PUT to S3: allow 443 to the region's S3 prefix list too.
    s3_prefix_list=$(aws ec2 describe-managed-prefix-lists --region "$region" --output text \
      --query "PrefixLists[?ends_with(PrefixListName, '.$region.s3')].PrefixListId | [0]" 2> "$tmp/ec2.err") \
      || s3_prefix_list=None
    choose_subnets
    vpc_overrides=("SubnetIds=$function_subnets" "VpcId=$vpc_id" "ClusterSecurityGroupId=$cluster_sg")
    if [[ $s3_prefix_list == pl-* ]]; then
      vpc_overrides+=("S3PrefixListId=$s3_prefix_list")
      info "its security group allows 443 to the cluster and to S3 ($s3_prefix_list, for custom resource answers)"
    else
      info "could not find the S3 prefix list of $region ($(one_line "$tmp/ec2.err")): the function's" \
        "security group allows 443 to the cluster only, so it cannot answer CloudFormation custom resources"
    fi
    if [[ $public_access == True ]]; then
      info "the public endpoint accepts only $public_cidrs: the function will run in $vpc_id ($function_subnets) and use the private endpoint"
    else
      info "the endpoint is private: the function will run in $vpc_id ($function_subnets)"
    fi
  else
    die "cluster '$cluster' accepts public API traffic only from $public_cidrs and its private endpoint is off. A Lambda" \
      "function outside a VPC connects from AWS addresses that are not in those CIDRs, so it could not reach the API" \
      "server. Either turn on private endpoint access (aws eks update-cluster-config --name $cluster --region $region" \
      "--resources-vpc-config endpointPrivateAccess=true) and run deploy.sh again, or run the function in a VPC whose" \
      "NAT gateway's Elastic IP is in publicAccessCidrs (template.yml's SubnetIds; deploy.sh does not set that up)."
  fi
fi

# A stack whose first create failed stays in ROLLBACK_COMPLETE and cannot be updated, only deleted.
stack_status() {
  aws cloudformation describe-stacks --stack-name "$stack" --region "$region" --output text \
    --query 'Stacks[0].StackStatus' 2> "$tmp/cfn.err" && return 0
  grep -q 'does not exist' "$tmp/cfn.err" && { echo NONE; return 0; }
  die "cannot read stack $stack: $(one_line "$tmp/cfn.err")"
}
delete_hint="sam delete --stack-name $stack --region $region"
status_now=$(stack_status)
case $status_now in
  ROLLBACK_COMPLETE | ROLLBACK_FAILED | DELETE_FAILED)
    die "stack $stack is in $status_now (its first create failed, see aws cloudformation describe-stack-events" \
      "--stack-name $stack --region $region); CloudFormation can only delete it. Run: $delete_hint, then deploy.sh again"
    ;;
  UPDATE_ROLLBACK_FAILED)
    die "stack $stack is in UPDATE_ROLLBACK_FAILED; run: aws cloudformation continue-update-rollback --stack-name $stack --region $region"
    ;;
  REVIEW_IN_PROGRESS)
    # Only a change set, created and never executed: sam deploy creates the stack (SAM treats it as a new stack).
    info "stack $stack is in REVIEW_IN_PROGRESS (a change set created but never executed): sam deploy creates it"
    ;;
  *_IN_PROGRESS) die "stack $stack is $status_now; wait until it finishes and run deploy.sh again" ;;
esac

# 2. Build -------------------------------------------------------------------------------------------------------------
step "Building the function"
./build-handler.sh >&2

# 3. Deploy ------------------------------------------------------------------------------------------------------------
step "Deploying stack $stack to $region"
if ! sam deploy \
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
  "Grants=$grants" \
  ${bucket_overrides[@]+"${bucket_overrides[@]}"} \
  ${vpc_overrides[@]+"${vpc_overrides[@]}"} >&2; then
  if [[ $(stack_status) == ROLLBACK_COMPLETE ]]; then
    die "sam deploy failed and the new stack rolled back; see the CloudFormation events above, fix the cause, then run:" \
      "$delete_hint, and deploy.sh again"
  fi
  die "sam deploy failed; see the CloudFormation events above (aws cloudformation describe-stack-events --stack-name $stack --region $region)"
fi

output() {
  aws cloudformation describe-stacks --stack-name "$stack" --region "$region" --output text \
    --query "Stacks[0].Outputs[?OutputKey=='$1'].OutputValue"
}
function_name=$(output FunctionName)
role_arn=$(output RoleArn)
info "function $function_name, role $role_arn"

# What a cluster admin must still run, one command a line; empty when this script did it all.
admin_commands=''
needs_admin() { admin_commands="$admin_commands"$'\n'"    $*"; }

# 4. Cluster access ----------------------------------------------------------------------------------------------------
step "Mapping the function's role to Kubernetes group $KUBERNETES_GROUP"
if [[ $access_entry == true ]]; then
  info "the stack created an EKS access entry for $role_arn"
else
  mapping=(eksctl create iamidentitymapping --cluster "$cluster" --region "$region" --arn "$role_arn" --group "$KUBERNETES_GROUP" --username lambda-eks)
  if ! command -v eksctl > /dev/null; then
    info "cluster $cluster uses the aws-auth ConfigMap (CONFIG_MAP mode) and eksctl is not installed"
    needs_admin "${mapping[*]}"
  elif eksctl get iamidentitymapping --cluster "$cluster" --region "$region" --arn "$role_arn" > /dev/null 2>&1; then
    info "aws-auth already maps $role_arn"
  elif ! "${mapping[@]}" >&2; then
    info "eksctl could not update aws-auth (only a cluster admin may)"
    needs_admin "${mapping[*]}"
  fi
fi

# 5. RBAC --------------------------------------------------------------------------------------------------------------
step "Applying RBAC grants $grants in namespace $namespace (permissions.yml)"
apply_hint="kubectl apply -n $namespace -f permissions.yml -l '$selector'"
if ! command -v kubectl > /dev/null; then
  info "kubectl is not installed"
  needs_admin "$apply_hint"
else
  kubeconfig="$tmp/kubeconfig"
  if ! aws eks update-kubeconfig --name "$cluster" --region "$region" --kubeconfig "$kubeconfig" > "$tmp/kubeconfig.log" 2>&1; then
    info "cannot write a kubeconfig for $cluster: $(one_line "$tmp/kubeconfig.log")"
    needs_admin "$apply_hint"
  elif ! kubectl --kubeconfig "$kubeconfig" auth can-i create roles.rbac.authorization.k8s.io -n "$namespace" > /dev/null 2>&1; then
    info "you may not create RBAC Roles in $namespace (or cannot reach the cluster)"
    needs_admin "$apply_hint"
  elif ! kubectl --kubeconfig "$kubeconfig" apply -n "$namespace" -f permissions.yml -l "$selector" >&2; then
    info "kubectl apply failed"
    needs_admin "$apply_hint"
  elif kubectl --kubeconfig "$kubeconfig" get -n "$namespace" role lambda-eks-deployer -o name > /dev/null 2>&1; then
    # The single Role of earlier versions of permissions.yml; it grants create whatever --grant says.
    info "note: the Role lambda-eks-deployer from an earlier permissions.yml still grants create in $namespace; if you"
    info "do not want that grant, remove it: kubectl delete -n $namespace role,rolebinding lambda-eks-deployer"
  fi
fi

if ((${#grant_manifests[@]} > 0)); then
  step "Applying the RBAC grants of set $set_name (namespace $set_namespace) from ${#grant_manifests[@]} manifest(s)"
  grants_command="npm run --silent grants -- ${grant_manifests[*]} --set $set_name --namespace $set_namespace --group $KUBERNETES_GROUP"
  set_hint="$grants_command | kubectl apply -f -"
  if ! command -v kubectl > /dev/null || [[ ! -s ${kubeconfig:-} ]]; then
    info "kubectl, or a kubeconfig for $cluster, is missing"
    needs_admin "$set_hint"
  elif ! npm run --silent grants -- "${grant_manifests[@]}" --set "$set_name" --namespace "$set_namespace" \
    --group "$KUBERNETES_GROUP" --kubeconfig "$kubeconfig" > "$tmp/set-grants.yaml" 2> "$tmp/set-grants.err"; then
    cat "$tmp/set-grants.err" >&2
    die "npm run grants failed: fix what it says above and run deploy.sh again"
  else
    # Its warnings: rights that are cluster-admin in effect.
    cat "$tmp/set-grants.err" >&2
    if ! kubectl --kubeconfig "$kubeconfig" apply -f "$tmp/set-grants.yaml" >&2; then
      info "kubectl apply of the set's grants failed (only a cluster admin may create them)"
      needs_admin "$set_hint"
    fi
  fi
fi

invoke_hint="aws lambda invoke --function-name $function_name --region $region --payload fileb://events/default.json out.json"
if [[ -n $admin_commands ]]; then
  echo "deploy.sh: the stack $stack is deployed, but the function cannot work in the cluster until a cluster admin runs" \
    "(from this directory):$admin_commands" >&2
  echo "    Then test it with: $invoke_hint" >&2
  exit "$EXIT_NEEDS_ADMIN"
fi

# 6. Invoke ------------------------------------------------------------------------------------------------------------
if [[ $invoke == false ]]; then
  step "Done (not invoked). Invoke with: $invoke_hint"
  exit 0
fi
if [[ ,$grants, != *,create,* ]]; then
  step "Done (not invoked: the test invocation creates a Deployment, which needs the create grant). Invoke with: $invoke_hint"
  exit 0
fi
step "Invoking $function_name"
deadline=$((SECONDS + INVOKE_WAIT_SECONDS))
# fileb:// sends the bytes as they are, with AWS CLI v1 and v2 alike. --cli-read-timeout 0 waits as long as the
# function may run (its Timeout) instead of the CLI's 60 s, after which the CLI would invoke it again.
echo '{}' > "$tmp/event.json"
while true; do
  aws lambda invoke --function-name "$function_name" --region "$region" --cli-read-timeout 0 \
    --payload "fileb://$tmp/event.json" "$tmp/result.json" > "$tmp/invoke.json" || die "aws lambda invoke failed"
  if ! grep -q '"FunctionError"' "$tmp/invoke.json"; then
    cat "$tmp/result.json"
    echo
    step "Done"
    exit 0
  fi
  # The access entry or aws-auth mapping and RBAC take a moment to reach the API server: retry only the two errors
  # they explain. Other 403s (quota, admission webhook, terminating namespace) are KubernetesApiError: not retried.
  if grep -Eq '"errorType": ?"Cluster(Authentication|Authorization)Error"' "$tmp/result.json" \
    && ((SECONDS < deadline)); then
    info "not authorised yet (the access mapping may still be propagating); retrying in ${INVOKE_INTERVAL_SECONDS}s"
    sleep "$INVOKE_INTERVAL_SECONDS"
    continue
  fi
  cat "$tmp/result.json" >&2
  echo >&2
  die "the function failed; the errorType and message above say what to fix (README, Troubleshooting)"
done
