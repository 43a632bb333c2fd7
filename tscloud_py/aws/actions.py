"""What IAM must allow for each API operation the typed clients send: the action catalogue.

An API operation is not always an IAM action of the same name (S3's HeadObject is ``s3:GetObject``,
CloudFront's CreateDistributionWithTags is ``cloudfront:CreateDistribution`` plus ``cloudfront:TagResource``,
API Gateway's are HTTP verbs on a path), and some operations need more than their own action (a create that
tags needs the service's tagging action; one that hands a role to a service needs ``iam:PassRole``). Each
entry here says which actions, on which kind of resource, from AWS's Service Authorization Reference.

``operations_index`` finds what the clients send; ``tests/unit/test_iam_catalogue.py`` holds the two
together (every operation sent has an entry, and no entry is for an operation no client sends).

Resource kinds name ARN patterns the policy generator fills with an app's names (``resource_patterns``);
``ANY`` is ``"*"``, used only where AWS takes no resource for the action, and each such grant says why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tscloud_py.aws.session import is_mutating

ANY = "*"

# Why a grant names no resource, one reason per rule of AWS's (the policy carries it as the statement's Sid).
NO_RESOURCE_LEVEL = "the Service Authorization Reference lists no resource type for these actions"
LISTS = "list and describe calls without an id read every resource of the account"


@dataclass(frozen=True)
class Grant:
    actions: tuple[str, ...]
    resource: str  # a kind of RESOURCE_KINDS, or ANY
    condition: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    why: str = ""  # for ANY: the AWS rule that requires it


def writes(action: str) -> bool:
    """Whether an IAM action changes anything: by AWS's naming, but API Gateway's actions are HTTP verbs."""
    service, _, name = action.partition(":")
    return name != "GET" if service == "apigateway" else is_mutating(name)


def _g(actions: str, resource: str = "", *, why: str = "", condition: dict[str, Any] | None = None) -> Grant:
    return Grant(tuple(actions.split()), resource or ANY, condition or {}, why)


def _pass_role(service: str) -> Grant:
    """Handing a role tscloud made to ``service``."""
    return _g("iam:PassRole", "role", condition={"StringEquals": {"iam:PassedToService": service}})


def _linked_role(service: str) -> Grant:
    """The service-linked role AWS makes on a service's first use in an account."""
    return _g("iam:CreateServiceLinkedRole", "service-linked-role",
              condition={"StringEquals": {"iam:AWSServiceName": service}})


# The ARN patterns of each kind; {prefix} is ``{app}-{stage}``, {lb} the same cut to what a load balancer's
# name keeps (``Names.resource(role, 32)``), {state} the state bucket.
RESOURCE_KINDS: dict[str, tuple[str, ...]] = {
    "bucket": ("arn:aws:s3:::{prefix}-*",),
    "object": ("arn:aws:s3:::{prefix}-*/*",),
    "state-bucket": ("arn:aws:s3:::{state}",),
    "state-object": ("arn:aws:s3:::{state}/locks/{app}/{stage}", "arn:aws:s3:::{state}/journals/{app}/{stage}.json"),
    "distribution": ("arn:aws:cloudfront::{account}:distribution/*",),
    "oac": ("arn:aws:cloudfront::{account}:origin-access-control/*",),
    "cf-function": ("arn:aws:cloudfront::{account}:function/{prefix}-*",),
    "role": ("arn:aws:iam::{account}:role/{prefix}-*",),
    "oidc-provider": ("arn:aws:iam::{account}:oidc-provider/*",),
    "service-linked-role": ("arn:aws:iam::{account}:role/aws-service-role/*",),
    "function": ("arn:aws:lambda:{region}:{account}:function:{prefix}-*",),
    "layer": ("arn:aws:lambda:{region}:{account}:layer:{prefix}-*",),
    "event-source-mapping": ("arn:aws:lambda:{region}:{account}:event-source-mapping:*",),
    "log-group": ("arn:aws:logs:{region}:{account}:log-group:/tscloud/{app}/{stage}",
                  "arn:aws:logs:{region}:{account}:log-group:/tscloud/{app}/{stage}:*",
                  "arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{prefix}-*"),
    "log-groups": ("arn:aws:logs:{region}:{account}:log-group:*",),
    "secret": ("arn:aws:secretsmanager:{region}:{account}:secret:tscloud/{app}/{stage}/*",),
    "queue": ("arn:aws:sqs:{region}:{account}:{prefix}-*",),
    "ecs-cluster": ("arn:aws:ecs:{region}:{account}:cluster/{prefix}",),
    "ecs-service": ("arn:aws:ecs:{region}:{account}:service/{prefix}/*",),
    "ecs-task-definition": ("arn:aws:ecs:{region}:{account}:task-definition/{prefix}-*:*",),
    "ecs-task": ("arn:aws:ecs:{region}:{account}:task/{prefix}/*",),
    "repository": ("arn:aws:ecr:{region}:{account}:repository/{prefix}*",),
    "load-balancer": ("arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{lb}*/*",
                      "arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{lb}*/*",
                      "arn:aws:elasticloadbalancing:{region}:{account}:listener/app/{lb}*/*",
                      "arn:aws:elasticloadbalancing:{region}:{account}:listener-rule/app/{lb}*/*"),
    "database": ("arn:aws:rds:{region}:{account}:db:{prefix}-*", "arn:aws:rds:{region}:{account}:cluster:{prefix}-*",
                 "arn:aws:rds:{region}:{account}:subgrp:{prefix}-*",
                 "arn:aws:rds:{region}:{account}:snapshot:{prefix}-*",
                 "arn:aws:rds:{region}:{account}:cluster-snapshot:{prefix}-*",
                 "arn:aws:rds:{region}:{account}:pg:{prefix}-*", "arn:aws:rds:{region}:{account}:cluster-pg:{prefix}-*",
                 "arn:aws:rds:{region}:{account}:pg:default.*", "arn:aws:rds:{region}:{account}:cluster-pg:default.*",
                 "arn:aws:rds:{region}:{account}:og:default:*"),
    "rds-secret": ("arn:aws:secretsmanager:{region}:{account}:secret:rds!*",),
    "cache": ("arn:aws:elasticache:{region}:{account}:replicationgroup:{prefix}-*",
              "arn:aws:elasticache:{region}:{account}:cluster:{prefix}-*",
              "arn:aws:elasticache:{region}:{account}:subnetgroup:{prefix}-*",
              "arn:aws:elasticache:{region}:{account}:parametergroup:default.*"),
    "schedule": ("arn:aws:scheduler:{region}:{account}:schedule-group/{prefix}",
                 "arn:aws:scheduler:{region}:{account}:schedule/{prefix}/*"),
    "scalable-target": ("arn:aws:application-autoscaling:{region}:{account}:scalable-target/*",),
    "certificate": ("arn:aws:acm:*:{account}:certificate/*",),
    "hosted-zone": ("arn:aws:route53:::hostedzone/*",),
    "dns-change": ("arn:aws:route53:::change/*",),
    "ec2": ("arn:aws:ec2:{region}:{account}:*",),
    "key-value-store": ("arn:aws:cloudfront::{account}:key-value-store/*",),
    "vpc-origin": ("arn:aws:cloudfront::{account}:vpcorigin/*",),
    # a CLOUDFRONT-scope web ACL lives in us-east-1; AWS's managed rule groups are AWS's
    "web-acl": ("arn:aws:wafv2:us-east-1:{account}:global/webacl/{prefix}-*/*",
                "arn:aws:wafv2:us-east-1:{account}:global/managedruleset/*/*"),
    # alarms live in the stage's region, a distribution's in us-east-1 (CloudFront's metrics); so do topics
    "alarm": ("arn:aws:cloudwatch:{region}:{account}:alarm:{prefix}-alarm-*",
              "arn:aws:cloudwatch:us-east-1:{account}:alarm:{prefix}-alarm-*"),
    "dashboard": ("arn:aws:cloudwatch::{account}:dashboard/{prefix}",),
    "topic": ("arn:aws:sns:{region}:{account}:{prefix}-alerts", "arn:aws:sns:us-east-1:{account}:{prefix}-alerts"),
    "api-gateway": ("arn:aws:apigateway:{region}::/*",),
    "email-identity": ("arn:aws:ses:{region}:{account}:identity/*",),
}

_EC2_TAGGED = "AllocateAddress CreateInternetGateway CreateNatGateway CreateRouteTable CreateSecurityGroup " \
              "CreateSubnet CreateVpc CreateVpcEndpoint"
_EC2_WRITES = "AssociateRouteTable AttachInternetGateway AuthorizeSecurityGroupEgress AuthorizeSecurityGroupIngress " \
              "CreateRoute " \
              "DeleteInternetGateway DeleteNatGateway DeleteRouteTable DeleteSecurityGroup DeleteSubnet DeleteVpc " \
              "DeleteVpcEndpoints DetachInternetGateway DisassociateRouteTable ModifyVpcAttribute ModifyVpcEndpoint " \
              "ReleaseAddress " \
              "RevokeSecurityGroupEgress RevokeSecurityGroupIngress"
_EC2_READS = "DescribeAddresses DescribeAvailabilityZones DescribeInternetGateways DescribeManagedPrefixLists " \
             "DescribeNatGateways DescribeNetworkInterfaces DescribeRouteTables DescribeSecurityGroups " \
             "DescribeSubnets DescribeVpcEndpoints DescribeVpcs"
_ELB_READS = "DescribeListenerCertificates DescribeListeners DescribeLoadBalancerAttributes DescribeLoadBalancers " \
             "DescribeRules DescribeTags DescribeTargetGroupAttributes DescribeTargetGroups DescribeTargetHealth"
_ELB_TAGGED = "CreateListener CreateLoadBalancer CreateRule CreateTargetGroup"
_ELB_WRITES = "AddListenerCertificates AddTags DeleteListener DeleteLoadBalancer DeleteRule DeleteTargetGroup " \
              "ModifyListener ModifyLoadBalancerAttributes ModifyRule ModifyTargetGroup ModifyTargetGroupAttributes " \
              "RemoveListenerCertificates SetSecurityGroups SetSubnets"
_APIGW_VERBS = (("Get", "GET"), ("Create", "POST"), ("Put", "PUT"), ("Update", "PATCH"), ("Delete", "DELETE"))
_APIGW = "CreateBasePathMapping CreateDeployment CreateDomainName CreateResource CreateRestApi " \
         "DeleteBasePathMapping DeleteDomainName DeleteRestApi GetBasePathMappings GetDomainName GetIntegration " \
         "GetMethod GetResources GetRestApi GetRestApis GetStage GetStages PutIntegration PutMethod UpdateDomainName"
_APIGW2 = "CreateApiMapping CreateDomainName DeleteApiMapping DeleteDomainName GetApi GetApiMappings " \
          "GetDomainName GetStages UpdateDomainName"


def _catalogue() -> dict[str, tuple[Grant, ...]]:
    c: dict[str, tuple[Grant, ...]] = {
        # S3: the operation's own action where it has one; "bucket"/"object" become the state bucket's for
        # the state store's requests.
        "s3:AbortMultipartUpload": (_g("s3:AbortMultipartUpload", "object"),),
        "s3:CompleteMultipartUpload": (_g("s3:PutObject", "object"),),
        "s3:CreateBucket": (_g("s3:CreateBucket", "bucket"),),
        "s3:CreateMultipartUpload": (_g("s3:PutObject", "object"),),
        "s3:DeleteBucket": (_g("s3:DeleteBucket", "bucket"),),
        "s3:DeleteBucketPolicy": (_g("s3:DeleteBucketPolicy", "bucket"),),
        "s3:DeleteObject": (_g("s3:DeleteObject", "object"),),
        "s3:DeleteObjects": (_g("s3:DeleteObject s3:DeleteObjectVersion", "object"),),
        "s3:GetBucketEncryption": (_g("s3:GetEncryptionConfiguration", "bucket"),),
        "s3:GetBucketOwnershipControls": (_g("s3:GetBucketOwnershipControls", "bucket"),),
        "s3:GetBucketPolicy": (_g("s3:GetBucketPolicy", "bucket"),),
        "s3:GetBucketTagging": (_g("s3:GetBucketTagging", "bucket"),),
        "s3:GetObject": (_g("s3:GetObject", "object"),),
        "s3:GetPublicAccessBlock": (_g("s3:GetBucketPublicAccessBlock", "bucket"),),
        "s3:HeadObject": (_g("s3:GetObject", "object"),),
        "s3:ListMultipartUploads": (_g("s3:ListBucketMultipartUploads", "bucket"),),
        "s3:ListObjectVersions": (_g("s3:ListBucketVersions", "bucket"),),
        "s3:ListObjectsV2": (_g("s3:ListBucket", "bucket"),),
        "s3:PutBucketEncryption": (_g("s3:PutEncryptionConfiguration", "bucket"),),
        "s3:PutBucketLifecycleConfiguration": (_g("s3:PutLifecycleConfiguration", "bucket"),),
        "s3:PutBucketOwnershipControls": (_g("s3:PutBucketOwnershipControls", "bucket"),),
        "s3:PutBucketPolicy": (_g("s3:PutBucketPolicy", "bucket"),),
        "s3:PutBucketTagging": (_g("s3:PutBucketTagging", "bucket"),),
        "s3:PutBucketVersioning": (_g("s3:PutBucketVersioning", "bucket"),),
        "s3:PutObject": (_g("s3:PutObject", "object"),),
        "s3:PutPublicAccessBlock": (_g("s3:PutBucketPublicAccessBlock", "bucket"),),
        "s3:UploadPart": (_g("s3:PutObject", "object"),),
        # CloudFront: distributions and OACs have random ids, so they are scoped to the account.
        "cloudfront:CreateDistributionWithTags": (_g("cloudfront:CreateDistribution cloudfront:TagResource",
                                                     "distribution"),),
        "cloudfront:ListDistributions": (_g("cloudfront:ListDistributions", why=NO_RESOURCE_LEVEL),),
        "cloudfront:ListOriginAccessControls": (_g("cloudfront:ListOriginAccessControls", why=NO_RESOURCE_LEVEL),),
        "cloudfront:ListVpcOrigins": (_g("cloudfront:ListVpcOrigins", why=NO_RESOURCE_LEVEL),),
        "wafv2:ListWebACLs": (_g("wafv2:ListWebACLs", why=NO_RESOURCE_LEVEL),),
        "wafv2:CreateWebACL": (_g("wafv2:CreateWebACL wafv2:TagResource", "web-acl"),),
        "cloudwatch:PutMetricAlarm": (_g("cloudwatch:PutMetricAlarm cloudwatch:TagResource", "alarm"),),
        "cloudwatch:GetMetricData": (_g("cloudwatch:GetMetricData", why=NO_RESOURCE_LEVEL),),
        # sent only by the emulator's local edge, reporting what a web ACL blocked as WAF does
        "cloudwatch:PutMetricData": (_g("cloudwatch:PutMetricData", why=NO_RESOURCE_LEVEL),),
        "sns:CreateTopic": (_g("sns:CreateTopic sns:TagResource", "topic"),),
        "sns:ListTopics": (_g("sns:ListTopics", why=NO_RESOURCE_LEVEL),),
        "cloudfront:CreateOriginAccessControl": (_g("cloudfront:CreateOriginAccessControl", "oac"),),
        "cloudfront:DeleteOriginAccessControl": (_g("cloudfront:DeleteOriginAccessControl", "oac"),),
        "cloudfront:GetOriginAccessControl": (_g("cloudfront:GetOriginAccessControl", "oac"),),
        "sts:GetCallerIdentity": (),  # AWS allows it to every principal: it needs no permission
        "ecr:GetAuthorizationToken": (
            _g("ecr:GetAuthorizationToken", why=NO_RESOURCE_LEVEL),
            # what the token is for: docker pushes the image with these
            _g("ecr:BatchCheckLayerAvailability ecr:InitiateLayerUpload ecr:UploadLayerPart "
               "ecr:CompleteLayerUpload ecr:PutImage ecr:BatchGetImage ecr:GetDownloadUrlForLayer", "repository")),
        "ecr:CreateRepository": (_g("ecr:CreateRepository ecr:TagResource", "repository"),),
        "ecs:CreateCluster": (_g("ecs:CreateCluster ecs:TagResource", "ecs-cluster"),),
        "ecs:CreateService": (_g("ecs:CreateService ecs:TagResource", "ecs-service"),
                              _linked_role("ecs.amazonaws.com")),
        "ecs:DeregisterTaskDefinition": (_g("ecs:DeregisterTaskDefinition", why=NO_RESOURCE_LEVEL),),
        "ecs:DeleteCluster": (_g("ecs:DeleteCluster", "ecs-cluster"),),
        "ecs:DescribeClusters": (_g("ecs:DescribeClusters", "ecs-cluster"),),
        "ecs:UpdateClusterSettings": (_g("ecs:UpdateClusterSettings", "ecs-cluster"),),
        "ecs:DeleteTaskDefinitions": (_g("ecs:DeleteTaskDefinitions", "ecs-task-definition"),),
        "ecs:DescribeTasks": (_g("ecs:DescribeTasks", "ecs-task"),),
        "ecs:RegisterTaskDefinition": (_g("ecs:RegisterTaskDefinition ecs:TagResource", why=NO_RESOURCE_LEVEL),
                                       _pass_role("ecs-tasks.amazonaws.com")),
        "elasticache:CreateCacheSubnetGroup": (_g("elasticache:CreateCacheSubnetGroup elasticache:AddTagsToResource",
                                                  "cache"),),
        "elasticache:CreateReplicationGroup": (
            _g("elasticache:CreateReplicationGroup elasticache:AddTagsToResource", "cache"),
            _linked_role("elasticache.amazonaws.com")),
        "iam:CreateRole": (_g("iam:CreateRole iam:TagRole", "role"),),
        "iam:CreateOpenIDConnectProvider": (_g("iam:CreateOpenIDConnectProvider iam:TagOpenIDConnectProvider",
                                               "oidc-provider"),),
        "iam:ListOpenIDConnectProviders": (_g("iam:ListOpenIDConnectProviders", why=LISTS),),
        "lambda:CreateFunction": (_g("lambda:CreateFunction lambda:TagResource", "function"),
                                  _pass_role("lambda.amazonaws.com")),
        "lambda:UpdateFunctionConfiguration": (_g("lambda:UpdateFunctionConfiguration", "function"),
                                               _pass_role("lambda.amazonaws.com")),
        "lambda:CreateEventSourceMapping": (
            _g("lambda:CreateEventSourceMapping", why=NO_RESOURCE_LEVEL,
               condition={"ArnLike": {"lambda:FunctionArn": "arn:aws:lambda:{region}:{account}:function:{prefix}-*"}}),),
        "lambda:ListEventSourceMappings": (_g("lambda:ListEventSourceMappings", why=NO_RESOURCE_LEVEL),),
        "lambda:ListLayerVersions": (_g("lambda:ListLayerVersions", why=NO_RESOURCE_LEVEL),),
        "lambda:DeleteEventSourceMapping": (_g("lambda:DeleteEventSourceMapping", "event-source-mapping"),),
        "lambda:UpdateEventSourceMapping": (_g("lambda:UpdateEventSourceMapping", "event-source-mapping"),),
        "lambda:PublishLayerVersion": (_g("lambda:PublishLayerVersion", "layer"),),
        "lambda:GetLayerVersion": (_g("lambda:GetLayerVersion", "layer"),),
        "lambda:DeleteLayerVersion": (_g("lambda:DeleteLayerVersion", "layer"),),
        "logs:CreateLogGroup": (_g("logs:CreateLogGroup logs:TagResource logs:TagLogGroup", "log-group"),),
        "logs:DescribeLogGroups": (_g("logs:DescribeLogGroups", "log-groups"),),
        "rds:CreateDBInstance": (_g("rds:CreateDBInstance rds:AddTagsToResource", "database"),
                                 _g("secretsmanager:CreateSecret secretsmanager:TagResource", "rds-secret"),
                                 _linked_role("rds.amazonaws.com")),
        "rds:CreateDBCluster": (_g("rds:CreateDBCluster rds:AddTagsToResource", "database"),
                                _g("secretsmanager:CreateSecret secretsmanager:TagResource", "rds-secret"),
                                _linked_role("rds.amazonaws.com")),
        "rds:CreateDBSubnetGroup": (_g("rds:CreateDBSubnetGroup rds:AddTagsToResource", "database"),),
        "rds:CreateDBParameterGroup": (_g("rds:CreateDBParameterGroup rds:AddTagsToResource", "database"),),
        "rds:CreateDBClusterParameterGroup": (_g("rds:CreateDBClusterParameterGroup rds:AddTagsToResource",
                                                 "database"),),
        # destroy keeps a final snapshot, which is a snapshot created
        "rds:DeleteDBInstance": (_g("rds:DeleteDBInstance rds:CreateDBSnapshot", "database"),),
        "rds:DeleteDBCluster": (_g("rds:DeleteDBCluster rds:CreateDBClusterSnapshot", "database"),),
        "route53:CreateHostedZone": (_g("route53:CreateHostedZone", why=NO_RESOURCE_LEVEL),),
        "route53:ListHostedZonesByName": (_g("route53:ListHostedZonesByName", why=NO_RESOURCE_LEVEL),),
        "route53:GetChange": (_g("route53:GetChange", "dns-change"),),
        "scheduler:CreateSchedule": (_g("scheduler:CreateSchedule", "schedule"), _pass_role("scheduler.amazonaws.com")),
        "scheduler:UpdateSchedule": (_g("scheduler:UpdateSchedule", "schedule"), _pass_role("scheduler.amazonaws.com")),
        "scheduler:CreateScheduleGroup": (_g("scheduler:CreateScheduleGroup scheduler:TagResource", "schedule"),),
        "scheduler:ListSchedules": (_g("scheduler:ListSchedules", why=NO_RESOURCE_LEVEL),),
        "secretsmanager:CreateSecret": (_g("secretsmanager:CreateSecret secretsmanager:TagResource", "secret"),),
        "secretsmanager:GetRandomPassword": (_g("secretsmanager:GetRandomPassword", why=NO_RESOURCE_LEVEL),),
        "secretsmanager:ListSecrets": (_g("secretsmanager:ListSecrets", why=NO_RESOURCE_LEVEL),),
        "ses:GetIdentityDkimAttributes": (_g("ses:GetIdentityDkimAttributes", why=NO_RESOURCE_LEVEL),),
        "ses:GetIdentityMailFromDomainAttributes": (_g("ses:GetIdentityMailFromDomainAttributes",
                                                       why=NO_RESOURCE_LEVEL),),
        "ses:SetIdentityMailFromDomain": (_g("ses:SetIdentityMailFromDomain", "email-identity"),),
        "sesv2:CreateEmailIdentity": (_g("ses:CreateEmailIdentity ses:TagResource", "email-identity"),),
        "sesv2:DeleteEmailIdentity": (_g("ses:DeleteEmailIdentity", "email-identity"),),
        "sesv2:GetEmailIdentity": (_g("ses:GetEmailIdentity", "email-identity"),),
        "sqs:CreateQueue": (_g("sqs:CreateQueue sqs:TagQueue", "queue"),),
        "ssm:DescribeParameters": (_g("ssm:DescribeParameters", why=NO_RESOURCE_LEVEL),),
        "application-autoscaling:RegisterScalableTarget": (
            _g("application-autoscaling:RegisterScalableTarget", "scalable-target"),
            _linked_role("ecs.application-autoscaling.amazonaws.com")),
        "acm:ListCertificates": (_g("acm:ListCertificates", why=NO_RESOURCE_LEVEL),),
        "acm:RequestCertificate": (_g("acm:RequestCertificate acm:AddTagsToCertificate", "certificate"),),
        "elbv2:CreateLoadBalancer": (_g("elasticloadbalancing:CreateLoadBalancer elasticloadbalancing:AddTags",
                                        "load-balancer"), _linked_role("elasticloadbalancing.amazonaws.com")),
    }
    for op in _EC2_TAGGED.split():
        c[f"ec2:{op}"] = (_g(f"ec2:{op} ec2:CreateTags", "ec2"),)
    for op in _EC2_WRITES.split():
        c[f"ec2:{op}"] = (_g(f"ec2:{op}", "ec2"),)
    for op in _EC2_READS.split():
        c[f"ec2:{op}"] = (_g(f"ec2:{op}", why=NO_RESOURCE_LEVEL),)
    for op in _ELB_READS.split():
        c[f"elbv2:{op}"] = (_g(f"elasticloadbalancing:{op}", why=NO_RESOURCE_LEVEL),)
    for op in _ELB_TAGGED.split():
        c.setdefault(f"elbv2:{op}", (_g(f"elasticloadbalancing:{op} elasticloadbalancing:AddTags", "load-balancer"),))
    for op in _ELB_WRITES.split():
        c[f"elbv2:{op}"] = (_g(f"elasticloadbalancing:{op}", "load-balancer"),)
    for service, ops in (("apigateway", _APIGW), ("apigatewayv2", _APIGW2)):
        for op in ops.split():
            verb = next(v for prefix, v in _APIGW_VERBS if op.startswith(prefix))
            c[f"{service}:{op}"] = (_g(f"apigateway:{verb}", "api-gateway"),)
    kinds = {
        "cloudfront": {"Function": "cf-function", "VpcOrigin": "vpc-origin", "KeyValueStore": "key-value-store",
                       "": "distribution"},
        "cloudfront-keyvaluestore": {"": "key-value-store"},
        "wafv2": {"": "web-acl"},
        "cloudwatch": {"Dashboard": "dashboard", "": "alarm"},
        "sns": {"": "topic"},
        "ecs": {"": "ecs-service"},
        "elasticache": {"": "cache"},
        "iam": {"": "role"},
        "lambda": {"": "function"},
        "logs": {"": "log-group"},
        "rds": {"": "database"},
        "route53": {"": "hosted-zone"},
        "scheduler": {"": "schedule"},
        "secretsmanager": {"": "secret"},
        "sqs": {"": "queue"},
        "ecr": {"": "repository"},
        "acm": {"": "certificate"},
        "application-autoscaling": {"": "scalable-target"},
    }
    for op in _ONE_TO_ONE.split():
        service, _, name = op.partition(":")
        kind = next(k for word, k in kinds[service].items() if word in name)
        c.setdefault(op, (_g(op, kind),))
    for op in _LISTS.split():
        c.setdefault(op, (_g(op, why=LISTS),))
    return c


# Operations whose action is their own name, on the kind of resource their service's entry in ``kinds`` names.
_ONE_TO_ONE = (
    "cloudfront:CreateFunction cloudfront:CreateInvalidation cloudfront:DeleteDistribution cloudfront:DeleteFunction "
    "cloudfront:DescribeFunction cloudfront:GetDistribution cloudfront:GetDistributionConfig cloudfront:GetFunction "
    "cloudfront:GetInvalidation cloudfront:ListInvalidations cloudfront:ListTagsForResource "
    "cloudfront:PublishFunction cloudfront:UpdateDistribution cloudfront:UpdateFunction "
    "cloudfront:CreateKeyValueStore cloudfront:DeleteKeyValueStore cloudfront:DescribeKeyValueStore "
    "cloudfront-keyvaluestore:DeleteKey cloudfront-keyvaluestore:DescribeKeyValueStore cloudfront-keyvaluestore:GetKey "
    "cloudfront-keyvaluestore:ListKeys cloudfront-keyvaluestore:PutKey "
    "cloudfront:CreateVpcOrigin cloudfront:DeleteVpcOrigin cloudfront:GetVpcOrigin cloudfront:UpdateVpcOrigin "
    "wafv2:DeleteWebACL wafv2:GetWebACL wafv2:ListTagsForResource wafv2:TagResource wafv2:UpdateWebACL "
    "cloudwatch:DeleteAlarms cloudwatch:ListTagsForResource cloudwatch:TagResource cloudwatch:GetDashboard "
    "cloudwatch:PutDashboard cloudwatch:DeleteDashboards "
    "sns:DeleteTopic sns:ListSubscriptionsByTopic sns:ListTagsForResource sns:Subscribe sns:TagResource "
    "ecs:CreateService ecs:DeleteService ecs:DescribeServices ecs:UpdateService "
    "elasticache:DeleteCacheSubnetGroup elasticache:DeleteReplicationGroup elasticache:ListTagsForResource "
    "elasticache:ModifyReplicationGroup "
    "iam:DeleteRole iam:DeleteRolePolicy iam:DetachRolePolicy iam:GetRole iam:GetRolePolicy "
    "iam:ListAttachedRolePolicies iam:ListRolePolicies iam:PutRolePolicy iam:UpdateAssumeRolePolicy "
    "lambda:AddPermission lambda:CreateFunctionUrlConfig lambda:DeleteFunction lambda:DeleteFunctionUrlConfig "
    "lambda:GetFunction lambda:GetFunctionUrlConfig lambda:GetPolicy lambda:RemovePermission lambda:TagResource "
    "lambda:UpdateFunctionCode lambda:UpdateFunctionUrlConfig "
    "logs:DeleteLogGroup logs:FilterLogEvents logs:ListTagsForResource logs:PutRetentionPolicy "
    "rds:DeleteDBSubnetGroup rds:ModifyDBCluster rds:ModifyDBInstance rds:ModifyDBSubnetGroup "
    "rds:DeleteDBClusterParameterGroup rds:DeleteDBParameterGroup rds:DescribeDBClusterParameters "
    "rds:DescribeDBParameters rds:ModifyDBClusterParameterGroup rds:ModifyDBParameterGroup "
    "route53:ChangeResourceRecordSets route53:GetHostedZone route53:ListResourceRecordSets "
    "scheduler:DeleteSchedule scheduler:DeleteScheduleGroup scheduler:GetSchedule scheduler:GetScheduleGroup "
    "secretsmanager:DeleteSecret secretsmanager:DescribeSecret secretsmanager:GetSecretValue "
    "secretsmanager:PutSecretValue secretsmanager:RestoreSecret secretsmanager:TagResource "
    "secretsmanager:UpdateSecret "
    "sqs:DeleteQueue sqs:GetQueueAttributes sqs:GetQueueUrl sqs:ListQueueTags sqs:SetQueueAttributes sqs:TagQueue "
    "ecr:DeleteRepository ecr:DescribeImages ecr:DescribeRepositories ecr:GetLifecyclePolicy "
    "ecr:PutImageScanningConfiguration ecr:PutLifecyclePolicy "
    "acm:DeleteCertificate acm:DescribeCertificate acm:ListTagsForCertificate "
    "application-autoscaling:DeleteScalingPolicy application-autoscaling:DeregisterScalableTarget "
    "application-autoscaling:PutScalingPolicy"
)
# Reads that go without an id (AWS then answers for every resource of the account) or whose action takes none.
_LISTS = (
    "cloudwatch:DescribeAlarms "
    "ecs:DescribeTaskDefinition ecs:ListClusters ecs:ListServices "
    "ecs:ListTaskDefinitions ecs:ListTasks "
    "elasticache:DescribeCacheSubnetGroups elasticache:DescribeReplicationGroups "
    "rds:DescribeDBClusters rds:DescribeDBEngineVersions rds:DescribeDBInstances rds:DescribeDBSnapshots "
    "rds:DescribeDBSubnetGroups "
    "application-autoscaling:DescribeScalableTargets application-autoscaling:DescribeScalingPolicies"
)

CATALOGUE: dict[str, tuple[Grant, ...]] = _catalogue()
