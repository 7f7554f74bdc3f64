#!/usr/bin/env python3
"""Stand-in for the aws, sam, kubectl and eksctl CLIs in the script tests (installed under each name in a temporary
bin directory). Each call is appended to $STUB_LOG as one JSON line {"tool", "args"}; the answers come from the
scenario in $STUB_SCENARIO and follow the real CLIs: --query is evaluated with JMESPath (the library the AWS CLI uses)
and --output text is formatted as the AWS CLI formats it, tab-separated, None for null, True/False for booleans.

The stack has a life: it does not exist (or is in the scenario's stackStatus) until a sam deploy succeeds, and a failed
first create leaves it in ROLLBACK_COMPLETE, which sam deploy then refuses as CloudFormation does. kubectl apply -l
selects objects with the real kubectl ($STUB_KUBECTL, offline with the flags in $STUB_KUBECTL_FLAGS), so the
selector a script passes is parsed and matched exactly as kubectl would.
"""

import json
import os
import subprocess
import sys

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


def aws(s):
    command = " ".join(ARGS[:2])
    if command == "sts get-caller-identity":
        if not s.get("credentials", True):
            fail("Unable to locate credentials. You can configure credentials by running \"aws configure\".", 253)
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
        with open(state_file("stack.status"), "w", encoding="utf-8") as handle:
            if s.get("samDeployFails"):
                handle.write("ROLLBACK_COMPLETE" if before is None else "UPDATE_ROLLBACK_COMPLETE")
            else:
                handle.write("CREATE_COMPLETE" if before is None else "UPDATE_COMPLETE")
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
                  "--validate=false", "-n", option("-n", "default"), "-f", option("-f"), "-o", "name"]
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


if __name__ == "__main__":
    record()
    {"aws": aws, "sam": sam, "kubectl": kubectl, "eksctl": eksctl}[TOOL](scenario())
