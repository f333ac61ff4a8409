"""boto3 writes on the resource kinds, run by scripts/cli-acceptance.sh.

Usage: python3 cli-acceptance-resources.py ENDPOINT PRIMARY_CONFIG_JSON PUBLIC_KEY_PEM

Creates, updates (If-Match) and deletes a cache policy, an origin request
policy, a response headers policy, a public key, a key group and an origin
access identity with boto3, and checks the errors CloudFront answers on the
way: names taken, stale ETags, resources a distribution uses, managed
policies. One distribution uses all of them at once; once it lets go of
them (an UpdateDistribution) each can be deleted. Prints one "ok ..." or
"FAIL ..." line per check, like the shell script, and exits 1 on a failure.
"""

import json
import sys

import boto3
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

ENDPOINT, PRIMARY, PUBLIC_KEY = sys.argv[1], sys.argv[2], sys.argv[3]
cf = boto3.client("cloudfront", endpoint_url=ENDPOINT)
failures = 0


def check(name, cond, detail=""):
    global failures
    if cond:
        print("ok   " + name)
    else:
        failures += 1
        print("FAIL %s %s" % (name, detail))


def expect_error(name, code, call, **kwargs):
    """Calls call(**kwargs), which must fail with CloudFront's error code
    as boto3 models it (an exception class of the client)."""
    global failures
    try:
        call(**kwargs)
    except getattr(cf.exceptions, code) as e:
        check("%s (%s)" % (name, code), e.response["Error"]["Code"] == code, e.response["Error"])
        return
    except Exception as e:  # noqa: BLE001 - any other error is a failure
        failures += 1
        print("FAIL %s: expected %s, got %r" % (name, code, e))
        return
    failures += 1
    print("FAIL %s: expected %s, got success" % (name, code))


# Cache policy, origin request policy and response headers policy: the same
# life each, so one table drives the three.
cache_config = {
    "Name": "w-cache", "MinTTL": 0, "DefaultTTL": 60, "MaxTTL": 300,
    "ParametersInCacheKeyAndForwardedToOrigin": {
        "EnableAcceptEncodingGzip": True,
        "HeadersConfig": {"HeaderBehavior": "none"},
        "CookiesConfig": {"CookieBehavior": "none"},
        "QueryStringsConfig": {"QueryStringBehavior": "none"},
    },
}
orp_config = {
    "Name": "w-orp",
    "HeadersConfig": {"HeaderBehavior": "whitelist", "Headers": {"Quantity": 1, "Items": ["x-tenant"]}},
    "CookiesConfig": {"CookieBehavior": "none"},
    "QueryStringsConfig": {"QueryStringBehavior": "all"},
}
rhp_config = {
    "Name": "w-rhp",
    "CustomHeadersConfig": {"Quantity": 1, "Items": [{"Header": "x-served-by", "Value": "stagefront", "Override": True}]},
}
kinds = [
    # (label, create, get, update, delete, config key, response key, config, managed id, in-use code, field to change)
    ("cache policy", cf.create_cache_policy, cf.get_cache_policy, cf.update_cache_policy, cf.delete_cache_policy,
     "CachePolicyConfig", "CachePolicy", cache_config, "658327ea-f89d-4fab-a63d-7e88639e58f6", "CachePolicy"),
    ("origin request policy", cf.create_origin_request_policy, cf.get_origin_request_policy,
     cf.update_origin_request_policy, cf.delete_origin_request_policy,
     "OriginRequestPolicyConfig", "OriginRequestPolicy", orp_config, "216adef6-5c7f-47e4-b989-5492eafa07d3",
     "OriginRequestPolicy"),
    ("response headers policy", cf.create_response_headers_policy, cf.get_response_headers_policy,
     cf.update_response_headers_policy, cf.delete_response_headers_policy,
     "ResponseHeadersPolicyConfig", "ResponseHeadersPolicy", rhp_config, "67f7725c-6f97-4210-82d7-5512b31e9d03",
     "ResponseHeadersPolicy"),
]
made = {}  # label -> (id, etag)
for label, create, get, update, delete, ckey, rkey, config, managed, err in kinds:
    out = create(**{ckey: config})
    pid, etag = out[rkey]["Id"], out["ETag"]
    check("%s: create answers Location and ETag" % label, out.get("Location", "").endswith(pid) and etag)
    expect_error("%s: same name again" % label, err + "AlreadyExists", create, **{ckey: config})
    changed = dict(config, Comment="updated")
    out = update(Id=pid, IfMatch=etag, **{ckey: changed})
    check("%s: update with If-Match" % label, out[rkey][ckey]["Comment"] == "updated" and out["ETag"] != etag)
    expect_error("%s: update with a stale ETag" % label, "PreconditionFailed", update, Id=pid, IfMatch=etag, **{ckey: changed})
    expect_error("%s: delete with a stale ETag" % label, "PreconditionFailed", delete, Id=pid, IfMatch=etag)
    managed_etag = get(Id=managed)["ETag"]
    expect_error("%s: a managed policy cannot be updated" % label, "IllegalUpdate", update,
                 Id=managed, IfMatch=managed_etag, **{ckey: dict(config, Name="managed-rename")})
    expect_error("%s: a managed policy cannot be deleted" % label, "IllegalDelete", delete, Id=managed, IfMatch=managed_etag)
    made[label] = (pid, out["ETag"])

# Public key and key group.
key_config = {"CallerReference": "w-key", "Name": "w-key", "EncodedKey": open(PUBLIC_KEY).read()}
out = cf.create_public_key(PublicKeyConfig=key_config)
kid, ketag = out["PublicKey"]["Id"], out["ETag"]
check("public key: EncodedKey round-trips", out["PublicKey"]["PublicKeyConfig"]["EncodedKey"] == key_config["EncodedKey"])
expect_error("public key: same caller reference", "PublicKeyAlreadyExists", cf.create_public_key, PublicKeyConfig=key_config)
out = cf.update_public_key(Id=kid, IfMatch=ketag, PublicKeyConfig=dict(key_config, Comment="rotated soon"))
check("public key: update the comment", out["PublicKey"]["PublicKeyConfig"]["Comment"] == "rotated soon")
expect_error("public key: update with a stale ETag", "PreconditionFailed", cf.update_public_key,
             Id=kid, IfMatch=ketag, PublicKeyConfig=key_config)
ketag = out["ETag"]
expect_error("public key: the key cannot change", "CannotChangeImmutablePublicKeyFields", cf.update_public_key,
             Id=kid, IfMatch=ketag, PublicKeyConfig=dict(key_config, EncodedKey=key_config["EncodedKey"].replace("A", "B", 1)))

# ECDSA P-256 keys are taken too (RSA 2048 or ECDSA 256, as CloudFront
# documents); other curves are refused.
def ec_public_pem(curve):
    key = ec.generate_private_key(curve)
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


ec_config = {"CallerReference": "w-ec-key", "Name": "w-ec-key", "EncodedKey": ec_public_pem(ec.SECP256R1())}
out = cf.create_public_key(PublicKeyConfig=ec_config)
check("public key: an ECDSA P-256 key", out["PublicKey"]["PublicKeyConfig"]["EncodedKey"] == ec_config["EncodedKey"])
cf.delete_public_key(Id=out["PublicKey"]["Id"], IfMatch=out["ETag"])
expect_error("public key: an ECDSA P-384 key", "InvalidArgument", cf.create_public_key,
             PublicKeyConfig=dict(ec_config, CallerReference="w-p384", EncodedKey=ec_public_pem(ec.SECP384R1())))

group_config = {"Name": "w-group", "Items": [kid]}
out = cf.create_key_group(KeyGroupConfig=group_config)
gid, getag = out["KeyGroup"]["Id"], out["ETag"]
expect_error("key group: same name", "KeyGroupAlreadyExists", cf.create_key_group, KeyGroupConfig=group_config)
expect_error("key group: unknown key", "InvalidArgument", cf.create_key_group,
             KeyGroupConfig={"Name": "w-group-2", "Items": ["KNOSUCHKEY0000"]})
expect_error("public key: in a key group", "PublicKeyInUse", cf.delete_public_key, Id=kid, IfMatch=ketag)
out = cf.update_key_group(Id=gid, IfMatch=getag, KeyGroupConfig=dict(group_config, Comment="signers"))
check("key group: update with If-Match", out["KeyGroup"]["KeyGroupConfig"]["Comment"] == "signers")
expect_error("key group: update with a stale ETag", "PreconditionFailed", cf.update_key_group,
             Id=gid, IfMatch=getag, KeyGroupConfig=group_config)
getag = out["ETag"]

# Origin access identity.
out = cf.create_cloud_front_origin_access_identity(
    CloudFrontOriginAccessIdentityConfig={"CallerReference": "w-oai", "Comment": "legacy"})
oid, oetag = out["CloudFrontOriginAccessIdentity"]["Id"], out["ETag"]
out = cf.update_cloud_front_origin_access_identity(
    Id=oid, IfMatch=oetag, CloudFrontOriginAccessIdentityConfig={"CallerReference": "w-oai", "Comment": "renamed"})
check("OAI: update the comment",
      out["CloudFrontOriginAccessIdentity"]["CloudFrontOriginAccessIdentityConfig"]["Comment"] == "renamed")
expect_error("OAI: update with a stale ETag", "PreconditionFailed", cf.update_cloud_front_origin_access_identity,
             Id=oid, IfMatch=oetag, CloudFrontOriginAccessIdentityConfig={"CallerReference": "w-oai", "Comment": "x"})
expect_error("OAI: the caller reference cannot change", "IllegalUpdate", cf.update_cloud_front_origin_access_identity,
             Id=oid, IfMatch=out["ETag"], CloudFrontOriginAccessIdentityConfig={"CallerReference": "other", "Comment": "x"})
oetag = out["ETag"]

# One distribution uses every one of them.
config = json.load(open(PRIMARY))
config.update(CallerReference="w-user", Aliases={"Quantity": 0})
config["Origins"] = {"Quantity": 1, "Items": [{
    "Id": "web", "DomainName": "bucket.s3.amazonaws.com",
    "S3OriginConfig": {"OriginAccessIdentity": "origin-access-identity/cloudfront/" + oid}}]}
behavior = config["DefaultCacheBehavior"]
behavior.update(
    CachePolicyId=made["cache policy"][0],
    OriginRequestPolicyId=made["origin request policy"][0],
    ResponseHeadersPolicyId=made["response headers policy"][0],
    TrustedKeyGroups={"Enabled": True, "Quantity": 1, "Items": [gid]},
)
out = cf.create_distribution(DistributionConfig=config)
did, detag = out["Distribution"]["Id"], out["ETag"]
check("distribution: lists by each policy and the key group",
      cf.list_distributions_by_cache_policy_id(CachePolicyId=made["cache policy"][0])["DistributionIdList"].get("Items") == [did]
      and cf.list_distributions_by_origin_request_policy_id(
          OriginRequestPolicyId=made["origin request policy"][0])["DistributionIdList"].get("Items") == [did]
      and cf.list_distributions_by_response_headers_policy_id(
          ResponseHeadersPolicyId=made["response headers policy"][0])["DistributionIdList"].get("Items") == [did]
      and cf.list_distributions_by_key_group(KeyGroupId=gid)["DistributionIdList"].get("Items") == [did])
for label, create, get, update, delete, ckey, rkey, config_, managed, err in kinds:
    pid, etag = made[label]
    expect_error("%s: in use by a distribution" % label, err + "InUse", delete, Id=pid, IfMatch=etag)
expect_error("key group: trusted by a distribution", "ResourceInUse", cf.delete_key_group, Id=gid, IfMatch=getag)
expect_error("OAI: used by a distribution", "CloudFrontOriginAccessIdentityInUse",
             cf.delete_cloud_front_origin_access_identity, Id=oid, IfMatch=oetag)

# The distribution lets go of all of them; then each can be deleted.
config["Origins"]["Items"][0] = {"Id": "web", "DomainName": "127.0.0.1",
                                 "CustomOriginConfig": {"HTTPPort": 8081, "HTTPSPort": 443, "OriginProtocolPolicy": "http-only"}}
behavior.update(CachePolicyId="4135ea2d-6df8-44a3-9df3-4b5a84be39ad", TrustedKeyGroups={"Enabled": False, "Quantity": 0})
del behavior["OriginRequestPolicyId"], behavior["ResponseHeadersPolicyId"]
cf.update_distribution(Id=did, IfMatch=detag, DistributionConfig=config)
check("distribution: no longer listed by the policies and the key group",
      not cf.list_distributions_by_cache_policy_id(CachePolicyId=made["cache policy"][0])["DistributionIdList"].get("Items")
      and not cf.list_distributions_by_key_group(KeyGroupId=gid)["DistributionIdList"].get("Items"))
for label, create, get, update, delete, ckey, rkey, config_, managed, err in kinds:
    pid, etag = made[label]
    delete(Id=pid, IfMatch=etag)
    expect_error("%s: gone after delete" % label, "NoSuch" + err, get, Id=pid)
cf.delete_key_group(Id=gid, IfMatch=getag)
expect_error("key group: gone after delete", "NoSuchResource", cf.get_key_group, Id=gid)
cf.delete_public_key(Id=kid, IfMatch=ketag)
expect_error("public key: gone after delete", "NoSuchPublicKey", cf.get_public_key, Id=kid)
cf.delete_cloud_front_origin_access_identity(Id=oid, IfMatch=oetag)
expect_error("OAI: gone after delete", "NoSuchCloudFrontOriginAccessIdentity",
             cf.get_cloud_front_origin_access_identity, Id=oid)

sys.exit(1 if failures else 0)
