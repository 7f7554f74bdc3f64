#!/usr/bin/env python3
"""Stand-in for the aws, sam, kubectl, eksctl, docker and npm CLIs in the script tests (installed under each name in a temporary
bin directory). Each call is appended to $STUB_LOG as one JSON line {"tool", "args"}; the answers come from the
scenario in $STUB_SCENARIO and follow the real CLIs: --query is evaluated with JMESPath (the library the AWS CLI uses)
and --output text is formatted as the AWS CLI formats it, tab-separated, None for null, True/False for booleans.

The stack has a life: it does not exist (or is in the scenario's stackStatus) until a sam deploy succeeds, and a failed
first create leaves it in ROLLBACK_COMPLETE, which sam deploy then refuses as CloudFormation does; a stack in
REVIEW_IN_PROGRESS (a change set never executed) is created, as sam deploy does. The VPC's subnets and route tables
default to private subnets behind a NAT gateway. Failures answer in the CLIs' own words (AWS CLI v1: botocore's
exceptions and the services' error codes; docker 28). kubectl apply -l
selects objects with the real kubectl ($STUB_KUBECTL, offline with the flags in $STUB_KUBECTL_FLAGS), so the
selector a script passes is parsed and matched exactly as kubectl would.
"""

import json
import os
import subprocess
import sys
import time

import jmespath

# Installed as a symlink named after the tool, or run by a wrapper that names it in STUB_TOOL.
TOOL = os.environ.get("STUB_TOOL") or os.path.basename(sys.argv[0])
ARGS = sys.argv[1:]


def scenario():
    with open(os.environ["STUB_SCENARIO"], encoding="utf-8") as handle:
        return json.load(handle)


def record():
    with open(os.environ["STUB_LOG"], "a", encoding="utf-8") as handle:
        handle.write(json.dumps({"tool": TOOL, "args": ARGS}) + "\n")


def option(name, default=None):
    return ARGS[ARGS.index(name) + 1] if name in ARGS else default


def state_file(name):
    return os.path.join(os.path.dirname(os.environ["STUB_LOG"]), name)


def stack_status(s):
    """The stack's status now: after a sam deploy, what it left; before, the scenario's (None: no stack)."""
    path = state_file("stack.status")
    if os.path.exists(path):
        return open(path, encoding="utf-8").read()
    return s.get("stackStatus")


def counter(name):
    path = os.path.join(os.path.dirname(os.environ["STUB_LOG"]), f"{name}.count")
    count = int(open(path, encoding="utf-8").read()) if os.path.exists(path) else 0
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(str(count + 1))
    return count


def text(value):
    if value is None:
        return "None"
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        if value and all(isinstance(item, list) for item in value):
            return "\n".join(text(item) for item in value)
        return "\t".join(text(item) for item in value)
    if isinstance(value, dict):
        return "\t".join(text(item) for item in value.values())
    return str(value)


def answer(document):
    query = option("--query")
    value = jmespath.search(query, document) if query else document
    if option("--output") == "text":
        print(text(value))
    else:
        print(json.dumps(value, indent=4))


def fail(message, code=254):
    print(message, file=sys.stderr)
    sys.exit(code)


def cli_v1_fail(message):
    """AWS CLI v1 writes an error after an empty line, and exits 255 (awscli/clidriver.py, write_exception)."""
    fail(f"\n{message}", 255)


def sts_endpoint():
    return f"https://sts.{option('--region')}.amazonaws.com/"


# What AWS CLI v1 says when get-caller-identity fails: botocore's connection errors (botocore/exceptions.py), and
# the errors STS and the credential providers answer with.
STS_ERRORS = {
    "EndpointConnectionError": lambda: f'Could not connect to the endpoint URL: "{sts_endpoint()}"',
    "ConnectTimeoutError": lambda: f'Connect timeout on endpoint URL: "{sts_endpoint()}"',
    "ProxyConnectionError": lambda: 'Failed to connect to proxy URL: "http://proxy.example.com:3128"',
    "SSLError": lambda: f"SSL validation failed for {sts_endpoint()} [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)",
    "ExpiredToken": lambda: "An error occurred (ExpiredToken) when calling the GetCallerIdentity operation: The security token included in the request is expired",
    "InvalidClientTokenId": lambda: "An error occurred (InvalidClientTokenId) when calling the GetCallerIdentity operation: The security token included in the request is invalid.",
    "SignatureDoesNotMatch": lambda: "An error occurred (SignatureDoesNotMatch) when calling the GetCallerIdentity operation: The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.",
    "AccessDenied": lambda: "An error occurred (AccessDenied) when calling the AssumeRole operation: User: arn:aws:iam::111122223333:user/platform is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111122223333:role/deployer",
}


def vpc_of(s):
    return ((s.get("cluster") or {}).get("resourcesVpcConfig") or {}).get("vpcId", "vpc-0a1b2c3d4e5f60718")


def subnets(s):
    """The scenario's subnets; by default the cluster's, private (no public IPs)."""
    if "subnets" in s:
        return s["subnets"]
    ids = ((s.get("cluster") or {}).get("resourcesVpcConfig") or {}).get("subnetIds", [])
    return [{"SubnetId": i, "VpcId": vpc_of(s), "MapPublicIpOnLaunch": False} for i in ids]


def route_tables(s):
    """The scenario's route tables; by default the VPC's main one, with a default route to a NAT gateway."""
    if "routeTables" in s:
        return s["routeTables"]
    return [{
        "RouteTableId": "rtb-0main",
        "VpcId": vpc_of(s),
        "Associations": [{"Main": True, "RouteTableId": "rtb-0main", "RouteTableAssociationId": "rtbassoc-0main"}],
        "Routes": [
            {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "Origin": "CreateRouteTable", "State": "active"},
            {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-0123456789abcdef0", "Origin": "CreateRoute", "State": "active"},
        ],
    }]


def values(name):
    """The values that follow option `name` (an option of several values, as --subnet-ids)."""
    if name not in ARGS:
        return []
    rest = ARGS[ARGS.index(name) + 1:]
    end = next((i for i, arg in enumerate(rest) if arg.startswith("--")), len(rest))
    return rest[:end]


def filter_values(name):
    """The values of filter `name` in --filters Name=<name>,Values=a,b (the shorthand the scripts use)."""
    for item in values("--filters"):
        fields = item.split(",", 1)
        if fields[0] == f"Name={name}" and len(fields) > 1 and fields[1].startswith("Values="):
            return fields[1][len("Values="):].split(",")
    return None


def aws(s):
    command = " ".join(ARGS[:2])
    if command == "sts get-caller-identity":
        if not s.get("credentials", True):
            fail("Unable to locate credentials. You can configure credentials by running \"aws configure\".", 253)
        if s.get("stsError"):
            cli_v1_fail(STS_ERRORS[s["stsError"]]())
        answer({"UserId": "AIDA", "Account": "111122223333", "Arn": "arn:aws:iam::111122223333:user/platform"})
    elif command == "eks describe-cluster":
        cluster = s.get("cluster")
        if cluster is None:
            fail(f"An error occurred (ResourceNotFoundException) when calling the DescribeCluster operation: No cluster found for name: {option('--name')}.")
        answer({"cluster": cluster})
    elif command == "ec2 describe-managed-prefix-lists":
        if s.get("prefixListsFail"):
            fail("An error occurred (UnauthorizedOperation) when calling the DescribeManagedPrefixLists operation: You are not authorized to perform this operation.")
        region = option("--region")
        # The AWS-managed lists of a region, as EC2 names them.
        answer({"PrefixLists": [
            {"PrefixListId": "pl-02cd2c6b", "PrefixListName": f"com.amazonaws.{region}.dynamodb"},
            {"PrefixListId": "pl-63a5400a", "PrefixListName": f"com.amazonaws.{region}.s3"},
        ]})
    elif command == "ec2 describe-route-tables":
        if s.get("routeTablesFail"):
            cli_v1_fail("An error occurred (UnauthorizedOperation) when calling the DescribeRouteTables operation: You are not authorized to perform this operation. User: arn:aws:iam::111122223333:user/platform is not authorized to perform: ec2:DescribeRouteTables because no identity-based policy allows the ec2:DescribeRouteTables action")
        vpcs = filter_values("vpc-id")
        answer({"RouteTables": [t for t in route_tables(s) if vpcs is None or t["VpcId"] in vpcs]})
    elif command == "ec2 describe-subnets":
        known = {subnet["SubnetId"]: subnet for subnet in subnets(s)}
        wanted = values("--subnet-ids") or list(known)
        for subnet_id in wanted:
            if subnet_id not in known:
                cli_v1_fail(f"An error occurred (InvalidSubnetID.NotFound) when calling the DescribeSubnets operation: The subnet ID '{subnet_id}' does not exist")
        answer({"Subnets": [known[subnet_id] for subnet_id in wanted]})
    elif command == "cloudformation describe-stacks":
        status = stack_status(s)
        if status is None:
            fail(f"An error occurred (ValidationError) when calling the DescribeStacks operation: Stack with id {option('--stack-name')} does not exist")
        stack = {"StackName": option("--stack-name"), "StackStatus": status}
        if status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"):
            stack["Outputs"] = [{"OutputKey": k, "OutputValue": v} for k, v in s["outputs"].items()]
        answer({"Stacks": [stack]})
    elif command == "eks update-kubeconfig":
        if s.get("kubeconfigFails"):
            fail("An error occurred (AccessDeniedException) when calling the DescribeCluster operation: not authorized")
        with open(option("--kubeconfig"), "w", encoding="utf-8") as handle:
            handle.write("apiVersion: v1\nkind: Config\n")
        print(f"Added new context to {option('--kubeconfig')}")
    elif command == "lambda invoke":
        results = s["invokeResults"]
        result = results[min(counter("invoke"), len(results) - 1)]
        with open(ARGS[-1], "w", encoding="utf-8") as handle:
            handle.write(json.dumps(result, separators=(",", ":")))
        reply = {"StatusCode": 200, "ExecutedVersion": "$LATEST"}
        if "errorType" in result:
            reply["FunctionError"] = "Unhandled"
        print(json.dumps(reply, indent=4))
    elif command == "configure get":
        fail("", 1)
    else:
        fail(f"stub aws: unexpected command {ARGS}", 2)


def sam(s):
    if ARGS[:1] == ["deploy"]:
        stack = option("--stack-name")
        before = stack_status(s)
        if before == "ROLLBACK_COMPLETE":
            fail(f"Error: Failed to create changeset for the stack: {stack}, An error occurred (ValidationError) when calling the CreateChangeSet operation: Stack:arn:aws:cloudformation:{option('--region')}:111122223333:stack/{stack}/0f1e2d3c is in ROLLBACK_COMPLETE state and can not be updated.", 1)
        # SAM creates a stack that has only a change set never executed (deployer.py, has_stack).
        new = before in (None, "REVIEW_IN_PROGRESS")
        with open(state_file("stack.status"), "w", encoding="utf-8") as handle:
            if s.get("samDeployFails"):
                handle.write("ROLLBACK_COMPLETE" if new else "UPDATE_ROLLBACK_COMPLETE")
            else:
                handle.write("CREATE_COMPLETE" if new else "UPDATE_COMPLETE")
        if s.get("samDeployFails"):
            fail(f"Error: Failed to create/update the stack: {stack}, Waiter StackCreateComplete failed", 1)
        print(f"Successfully created/updated stack - {stack} in {option('--region')}")
    elif ARGS[:2] == ["local", "invoke"]:
        print(json.dumps(s["invokeResults"][0]))
    else:
        fail(f"stub sam: unexpected command {ARGS}", 2)


def kubectl(s):
    if "auth" in ARGS and "can-i" in ARGS:
        allowed = s.get("canCreateRoles", True)
        print("yes" if allowed else "no")
        sys.exit(0 if allowed else 1)
    if "apply" in ARGS:
        if s.get("applyFails"):
            fail(f"Error from server (Forbidden): error when creating \"{option('-f')}\": roles.rbac.authorization.k8s.io \"lambda-eks-create\" is forbidden: user \"platform\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held", 1)
        select = [os.environ["STUB_KUBECTL"], *json.loads(os.environ["STUB_KUBECTL_FLAGS"]), "create", "--dry-run=client",
                  "--validate=false", "-f", option("-f"), "-o", "name"]
        if "-n" in ARGS:
            select += ["-n", option("-n")]
        if "-l" in ARGS:
            select += ["-l", option("-l")]
        result = subprocess.run(select, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            fail(result.stderr.replace("no objects passed to create", "no objects passed to apply").strip(), result.returncode)
        for name in result.stdout.split():
            print(f"{name} created")
        return
    if "get" in ARGS and "role" in ARGS:
        name = ARGS[ARGS.index("role") + 1]
        if name in s.get("roles", []):
            print(f"role.rbac.authorization.k8s.io/{name}")
            return
        fail(f"Error from server (NotFound): roles.rbac.authorization.k8s.io \"{name}\" not found", 1)
    fail(f"stub kubectl: unexpected command {ARGS}", 2)


def npm(s):
    # npm run --silent grants -- <files> --set S --namespace N --group G --kubeconfig K: the RBAC of a set, as
    # src/cli/grants.ts prints it (its own tests run it against the real control plane).
    if ARGS[:4] != ["run", "--silent", "grants", "--"]:
        fail(f"stub npm: unexpected command {ARGS}", 2)
    if s.get("grantsFail"):
        fail("npm run grants: app.yaml: document 2 (Widget \"w\"): the cluster of kubeconfig context \"demo\" does not serve kind Widget of example.com/v1, and no CustomResourceDefinition in these manifests defines it: install its CRD, or pass the manifest that has it", 2)
    name, namespace, group = option("--set"), option("--namespace"), option("--group")
    print(f"""# The RBAC that lets a function of group "{group}" apply, prune, read and delete set "{name}"
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: lambda-eks-set-{name}, namespace: {namespace}}}
rules:
  - {{apiGroups: [""], resources: [configmaps], resourceNames: [lambda-eks-set-{name}, settings], verbs: [get, patch, create, delete]}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: lambda-eks-set-{name}, namespace: {namespace}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: lambda-eks-set-{name}}}
subjects: [{{apiGroup: rbac.authorization.k8s.io, kind: Group, name: {group}}}]""")
    print('npm run grants: warning: Deployment "web" in namespace "default" may run pods as any ServiceAccount of that namespace, and so has their rights', file=sys.stderr)


def eksctl(s):
    if ARGS[:2] == ["get", "iamidentitymapping"]:
        if s.get("mapped"):
            print(f"ARN\tUSERNAME\tGROUPS\n{option('--arn')}\tlambda-eks\tlambda-deployers")
            return
        fail(f"Error: no iamidentitymapping with arn \"{option('--arn')}\" found", 1)
    if ARGS[:2] == ["create", "iamidentitymapping"]:
        if s.get("mappingFails"):
            fail("Error: getting auth ConfigMap: Unauthorized", 1)
        print(f"2026-01-01 00:00:00 [i]  adding identity \"{option('--arn')}\" to auth ConfigMap")
        return
    fail(f"stub eksctl: unexpected command {ARGS}", 2)


def docker(s):
    if ARGS[:1] == ["info"]:
        daemon = s.get("docker", "running")
        if daemon == "hangs":
            # A daemon that accepts the connection and never answers (Docker Desktop starting, an unreachable
            # DOCKER_HOST): the script must give up on its own.
            time.sleep(60)
        print("Client:\n Version:    28.2.2\n Context:    default\n Debug Mode: false\n\nServer:")
        if daemon == "stopped":
            fail("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", 1)
        print(" Containers: 0\n Server Version: 28.2.2")
        return
    fail(f"stub docker: unexpected command {ARGS}", 2)


if __name__ == "__main__":
    record()
    {"aws": aws, "sam": sam, "kubectl": kubectl, "eksctl": eksctl, "docker": docker, "npm": npm}[TOOL](scenario())
