#!/usr/bin/env bash
# Acceptance: the continuous-deployment workflow with the real `aws` CLI
# (and boto3) against a freshly started `stagefront serve` with SigV4 auth on.
# Usage: scripts/cli-acceptance.sh   (builds the binary, uses loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

WORK=$(mktemp -d)
BIN="$WORK/stagefront"
go build -o "$BIN" ./cmd/stagefront

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
API_PORT=$(free_port); EDGE_PORT=$(free_port); ADMIN_PORT=$(free_port)
export STAGEFRONT_ACCESS_KEY_ID=AKSFACCEPTANCE00001 STAGEFRONT_SECRET_ACCESS_KEY=acceptance-secret-key-0123456789abcdefgh
export AWS_ACCESS_KEY_ID=$STAGEFRONT_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$STAGEFRONT_SECRET_ACCESS_KEY AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN || true

"$BIN" serve --data-dir "$WORK/data" --api-addr 127.0.0.1:$API_PORT --edge-addr 127.0.0.1:$EDGE_PORT \
  --admin-addr 127.0.0.1:$ADMIN_PORT >"$WORK/server.log" 2>&1 &
SERVER=$!
cleanup() { kill "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT
for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$ADMIN_PORT/healthz" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fs "http://127.0.0.1:$ADMIN_PORT/healthz" >/dev/null || { cat "$WORK/server.log"; echo "server did not start"; exit 1; }

EP=http://127.0.0.1:$API_PORT
CF="aws cloudfront --endpoint-url $EP"
cd "$WORK"
PASS=0; FAIL=0
ok() { PASS=$((PASS+1)); echo "ok   $*"; }
bad() { FAIL=$((FAIL+1)); echo "FAIL $*"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
expect_err() {
  local name=$1 code=$2; shift 2
  local out
  if out=$("$@" 2>&1); then bad "$name: expected $code, got success"; return 0; fi
  if grep -q "($code)" <<<"$out"; then ok "$name ($code)"; else bad "$name: expected $code: $out"; fi
}

cat > primary.json <<'EOF'
{"CallerReference":"primary-1","Comment":"primary","Enabled":true,"HttpVersion":"http2","DefaultRootObject":"index.html",
 "Aliases":{"Quantity":1,"Items":["www.acceptance.test"]},
 "Origins":{"Quantity":1,"Items":[{"Id":"web","DomainName":"127.0.0.1","OriginPath":"/v1",
   "CustomOriginConfig":{"HTTPPort":8081,"HTTPSPort":443,"OriginProtocolPolicy":"http-only"}}]},
 "DefaultCacheBehavior":{"TargetOriginId":"web","ViewerProtocolPolicy":"allow-all",
   "CachePolicyId":"4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}}
EOF

# 1 CreateDistribution
$CF create-distribution --distribution-config file://primary.json > p.json
P=$(jq -r .Distribution.Id p.json); PDOM=$(jq -r .Distribution.DomainName p.json)
check "1 create: Location present" test -n "$(jq -r '.Location // empty' p.json)"
check "1 create: ETag present" test -n "$(jq -r '.ETag // empty' p.json)"
check "1 create: Staging=false" test "$(jq -r .Distribution.DistributionConfig.Staging p.json)" = false
check "1 create: policy id empty" test "$(jq -r .Distribution.DistributionConfig.ContinuousDeploymentPolicyId p.json)" = ""
check "1 create: id shape" grep -Eq '^E[A-Z0-9]{13}$' <<<"$P"
# 1b
expect_err "1b duplicate caller reference" DistributionAlreadyExists $CF create-distribution --distribution-config file://primary.json
# 1c
$CF create-distribution --origin-domain-name 127.0.0.1 --default-root-object index.html > c.json
check "1c create with shorthand" test -n "$(jq -r .Distribution.Id c.json)"

# 2 waiter / Get
timeout 30 $CF wait distribution-deployed --id "$P"
check "2 Deployed on first poll" test "$($CF get-distribution --id "$P" --query Distribution.Status --output text)" = Deployed

# 3 GetDistributionConfig ETag equals GetDistribution ETag
PE=$($CF get-distribution-config --id "$P" --query ETag --output text)
check "3 config ETag = distribution ETag" test "$PE" = "$($CF get-distribution --id "$P" --query ETag --output text)"

# 4 CopyDistribution
$CF copy-distribution --primary-distribution-id "$P" --if-match "$PE" --staging --caller-reference stg-1 > s.json
S=$(jq -r .Distribution.Id s.json); SDOM=$(jq -r .Distribution.DomainName s.json)
check "4 copy: new id" test "$S" != "$P"
check "4 copy: Staging=true" test "$(jq -r .Distribution.DistributionConfig.Staging s.json)" = true
check "4 copy: no aliases" test "$(jq -r .Distribution.DistributionConfig.Aliases.Quantity s.json)" = 0
check "4 copy: policy id empty" test "$(jq -r .Distribution.DistributionConfig.ContinuousDeploymentPolicyId s.json)" = ""
check "4 copy: origin path copied" test "$(jq -r '.Distribution.DistributionConfig.Origins.Items[0].OriginPath' s.json)" = /v1
check "4 copy: Location" test -n "$(jq -r '.Location // empty' s.json)"
expect_err "4b copy duplicate reference" DistributionAlreadyExists $CF copy-distribution --primary-distribution-id "$P" --if-match "$PE" --staging --caller-reference stg-1
expect_err "4c copy wrong ETag" PreconditionFailed $CF copy-distribution --primary-distribution-id "$P" --if-match EAAAAAAAAAAAAA --staging --caller-reference stg-2
expect_err "4d copy unknown primary" NoSuchDistribution $CF copy-distribution --primary-distribution-id E000000000000 --if-match X --staging --caller-reference stg-3
$CF copy-distribution --primary-distribution-id "$P" --if-match "$PE" --staging --no-enabled --caller-reference stg-4 > s4.json
check "4e copy disabled" test "$(jq -r .Distribution.DistributionConfig.Enabled s4.json)" = false
S4=$(jq -r .Distribution.Id s4.json); S4E=$(jq -r .ETag s4.json)
$CF delete-distribution --id "$S4" --if-match "$S4E" && ok "4e delete disabled copy" || bad "4e delete disabled copy"

# 5 Update staging OriginPath /v2
$CF get-distribution-config --id "$S" > sc.json; SE=$(jq -r .ETag sc.json)
jq '.DistributionConfig.Origins.Items[0].OriginPath="/v2" | .DistributionConfig' sc.json > sc2.json
$CF update-distribution --id "$S" --if-match "$SE" --distribution-config file://sc2.json > su.json
check "5 update: new ETag" test "$(jq -r .ETag su.json)" != "$SE"
check "5 update: OriginPath /v2" test "$(jq -r '.Distribution.DistributionConfig.Origins.Items[0].OriginPath' su.json)" = /v2
expect_err "5b update without If-Match" InvalidIfMatchVersion $CF update-distribution --id "$S" --distribution-config file://sc2.json
expect_err "5c update with stale If-Match" PreconditionFailed $CF update-distribution --id "$S" --if-match "$SE" --distribution-config file://sc2.json

# 6 policies
jq -n --arg d "$SDOM" '{StagingDistributionDnsNames:{Quantity:1,Items:[$d]},Enabled:true,TrafficConfig:{Type:"SingleHeader",SingleHeaderConfig:{Header:"aws-cf-cd-test",Value:"blue"}}}' > cdp-h.json
$CF create-continuous-deployment-policy --continuous-deployment-policy-config file://cdp-h.json > cdp.json
CDP=$(jq -r .ContinuousDeploymentPolicy.Id cdp.json)
check "6 create policy: ETag" test -n "$(jq -r '.ETag // empty' cdp.json)"
check "6 create policy: Location" test -n "$(jq -r '.Location // empty' cdp.json)"
expect_err "6b same staging twice" StagingDistributionInUse $CF create-continuous-deployment-policy --continuous-deployment-policy-config file://cdp-h.json
jq '.TrafficConfig.SingleHeaderConfig.Header="x-test"' cdp-h.json > bad1.json
expect_err "6c bad header prefix" InvalidArgument $CF create-continuous-deployment-policy --continuous-deployment-policy-config file://bad1.json
jq '.TrafficConfig={Type:"SingleWeight",SingleWeightConfig:{Weight:0.2}}' cdp-h.json > bad2.json
expect_err "6d weight over 0.15" InvalidArgument $CF create-continuous-deployment-policy --continuous-deployment-policy-config file://bad2.json
jq '.TrafficConfig={Type:"SingleWeight",SingleWeightConfig:{Weight:0.1,SessionStickinessConfig:{IdleTTL:200,MaximumTTL:600}}}' cdp-h.json > bad3.json
expect_err "6e idle TTL under 300" InvalidArgument $CF create-continuous-deployment-policy --continuous-deployment-policy-config file://bad3.json
jq '.TrafficConfig={Type:"SingleWeight",SingleWeightConfig:{Weight:0.1,SessionStickinessConfig:{IdleTTL:900,MaximumTTL:600}}}' cdp-h.json > bad4.json
expect_err "6e idle TTL over max" InvalidArgument $CF create-continuous-deployment-policy --continuous-deployment-policy-config file://bad4.json
jq '.StagingDistributionDnsNames.Quantity=2' cdp-h.json > bad5.json
expect_err "6f quantity mismatch" InconsistentQuantities $CF create-continuous-deployment-policy --continuous-deployment-policy-config file://bad5.json
jq '.StagingDistributionDnsNames.Items=["dzzzzzzzzzzzzz.cloudfront.net"]' cdp-h.json > bad6.json
expect_err "6g unknown staging dns" InvalidArgument $CF create-continuous-deployment-policy --continuous-deployment-policy-config file://bad6.json
jq --arg d "$PDOM" '.StagingDistributionDnsNames.Items=[$d]' cdp-h.json > bad7.json
expect_err "6g primary's dns" InvalidArgument $CF create-continuous-deployment-policy --continuous-deployment-policy-config file://bad7.json

# 7 get / getconfig / list
E1=$($CF get-continuous-deployment-policy --id "$CDP" --query ETag --output text)
E2=$($CF get-continuous-deployment-policy-config --id "$CDP" --query ETag --output text)
check "7 policy Get and GetConfig ETags equal" test "$E1" = "$E2"
# a second policy on a second staging, so that listing pages
$CF copy-distribution --primary-distribution-id "$P" --if-match "$PE" --staging --caller-reference stg-5 > s5.json
S5DOM=$(jq -r .Distribution.DomainName s5.json)
jq --arg d "$S5DOM" '.StagingDistributionDnsNames.Items=[$d]' cdp-h.json > cdp2.json
$CF create-continuous-deployment-policy --continuous-deployment-policy-config file://cdp2.json > cdp2out.json
$CF list-continuous-deployment-policies --max-items 1 > lp.json
check "7 list: MaxItems=1" test "$(jq -r .ContinuousDeploymentPolicyList.MaxItems lp.json)" = 1
check "7 list: NextMarker" test -n "$(jq -r '.ContinuousDeploymentPolicyList.NextMarker // empty' lp.json)"
expect_err "7b unknown policy" NoSuchContinuousDeploymentPolicy $CF get-continuous-deployment-policy --id 00000000-0000-0000-0000-000000000000

# 8 policy id at create is rejected
jq --arg c "$CDP" '.CallerReference="p2" | .Aliases={Quantity:0} | .ContinuousDeploymentPolicyId=$c' primary.json > p2.json
expect_err "8 policy id at create" InvalidArgument $CF create-distribution --distribution-config file://p2.json

# 9 attach
$CF get-distribution-config --id "$P" > pc.json; PE=$(jq -r .ETag pc.json)
jq --arg c "$CDP" '.DistributionConfig.ContinuousDeploymentPolicyId=$c | .DistributionConfig' pc.json > pc2.json
$CF update-distribution --id "$P" --if-match "$PE" --distribution-config file://pc2.json > pu.json
check "9 attach: primary shows policy" test "$(jq -r .Distribution.DistributionConfig.ContinuousDeploymentPolicyId pu.json)" = "$CDP"
check "9 attach: reverse pointer on staging" test "$($CF get-distribution-config --id "$S" --query DistributionConfig.ContinuousDeploymentPolicyId --output text)" = "$CDP"

# 11 IllegalUpdate, 11b omitted id keeps it
PE=$(jq -r .ETag pu.json)
jq '.PriceClass="PriceClass_100"' pc2.json > pc3.json
expect_err "11 IllegalUpdate (PriceClass under CD)" IllegalUpdate $CF update-distribution --id "$P" --if-match "$PE" --distribution-config file://pc3.json
jq 'del(.ContinuousDeploymentPolicyId) | .Comment="omitted id"' pc2.json > pc4.json
$CF update-distribution --id "$P" --if-match "$PE" --distribution-config file://pc4.json > pu2.json
check "11b omitted policy id is kept" test "$(jq -r .Distribution.DistributionConfig.ContinuousDeploymentPolicyId pu2.json)" = "$CDP"

# 12 staging cannot be disabled while in use
$CF get-distribution-config --id "$S" > sc3.json; SE=$(jq -r .ETag sc3.json)
jq '.DistributionConfig.Enabled=false | .DistributionConfig' sc3.json > sc4.json
expect_err "12 disable staging in use" StagingDistributionInUse $CF update-distribution --id "$S" --if-match "$SE" --distribution-config file://sc4.json

# 13 policy cannot be deleted while attached
CE=$($CF get-continuous-deployment-policy --id "$CDP" --query ETag --output text)
expect_err "13 delete attached policy" ContinuousDeploymentPolicyInUse $CF delete-continuous-deployment-policy --id "$CDP" --if-match "$CE"

# 15 promote
PE=$($CF get-distribution --id "$P" --query ETag --output text); SE=$($CF get-distribution --id "$S" --query ETag --output text)
expect_err "15 promote with one ETag" InvalidIfMatchVersion $CF update-distribution-with-staging-config --id "$P" --staging-distribution-id "$S" --if-match "$PE"
expect_err "15 promote with stale primary ETag" PreconditionFailed $CF update-distribution-with-staging-config --id "$P" --staging-distribution-id "$S" --if-match "EAAAAAAAAAAAAA,$SE"
$CF update-distribution-with-staging-config --id "$P" --staging-distribution-id "$S" --if-match "$PE, $SE" > promo.json
check "15b promote: new ETag" test "$(jq -r .ETag promo.json)" != "$PE"
check "15b promote: OriginPath /v2" test "$(jq -r '.Distribution.DistributionConfig.Origins.Items[0].OriginPath' promo.json)" = /v2
check "15b promote: Aliases kept" test "$(jq -r '.Distribution.DistributionConfig.Aliases.Items[0]' promo.json)" = www.acceptance.test
check "15b promote: policy id kept" test "$(jq -r .Distribution.DistributionConfig.ContinuousDeploymentPolicyId promo.json)" = "$CDP"
check "15b promote: Staging=false" test "$(jq -r .Distribution.DistributionConfig.Staging promo.json)" = false
check "15c policy disabled" test "$($CF get-continuous-deployment-policy --id "$CDP" --query ContinuousDeploymentPolicy.ContinuousDeploymentPolicyConfig.Enabled --output text)" = False
check "15c staging still staging" test "$($CF get-distribution --id "$S" --query Distribution.DistributionConfig.Staging --output text)" = True
# the comma form without a space works too (promote again, same staging)
PE=$($CF get-distribution --id "$P" --query ETag --output text); SE=$($CF get-distribution --id "$S" --query ETag --output text)
check "15 promote with \"a,b\" If-Match" $CF update-distribution-with-staging-config --id "$P" --staging-distribution-id "$S" --if-match "$PE,$SE" --query ETag --output text >/dev/null

# 16 re-enable for the next cycle
$CF get-continuous-deployment-policy-config --id "$CDP" > cc.json; CE=$(jq -r .ETag cc.json)
jq '.ContinuousDeploymentPolicyConfig.Enabled=true | .ContinuousDeploymentPolicyConfig' cc.json > cc2.json
$CF update-continuous-deployment-policy --id "$CDP" --if-match "$CE" --continuous-deployment-policy-config file://cc2.json > cu.json
check "16 re-enable: new ETag" test "$(jq -r .ETag cu.json)" != "$CE"
check "16 re-enable: Enabled" test "$(jq -r .ContinuousDeploymentPolicy.ContinuousDeploymentPolicyConfig.Enabled cu.json)" = true

# 17 invalidations
$CF create-invalidation --distribution-id "$P" --paths '/*' > inv.json
I=$(jq -r .Invalidation.Id inv.json)
check "17 invalidation: Location" test -n "$(jq -r '.Location // empty' inv.json)"
timeout 30 $CF wait invalidation-completed --distribution-id "$P" --id "$I"
check "17 invalidation Completed" test "$($CF get-invalidation --distribution-id "$P" --id "$I" --query Invalidation.Status --output text)" = Completed
check "17 list shows it first" test "$($CF list-invalidations --distribution-id "$P" --query 'InvalidationList.Items[0].Id' --output text)" = "$I"
expect_err "17 unknown invalidation" NoSuchInvalidation $CF get-invalidation --distribution-id "$P" --id I0000000000000

# 18 lists
$CF list-distributions --query 'DistributionList.Items[].[Id,Staging]' --output text > ld.txt
check "18 list: primary with Staging=False" grep -Eq "^$P[[:space:]]+False" ld.txt
check "18 list: staging with Staging=True" grep -Eq "^$S[[:space:]]+True" ld.txt
N=$($CF list-distributions --page-size 1 --output json | jq '.DistributionList.Items | length')
check "18 list with --page-size 1 pages through all ($N)" test "$N" -ge 4

# 19 teardown (G6), with 19b and 19c on the way
PE=$($CF get-distribution --id "$P" --query ETag --output text)
expect_err "19b delete enabled primary" DistributionNotDisabled $CF delete-distribution --id "$P" --if-match "$PE"
STALE=$PE
$CF get-continuous-deployment-policy-config --id "$CDP" > cc.json; CE=$(jq -r .ETag cc.json)
jq '.ContinuousDeploymentPolicyConfig.Enabled=false | .ContinuousDeploymentPolicyConfig' cc.json > cc3.json
$CF update-continuous-deployment-policy --id "$CDP" --if-match "$CE" --continuous-deployment-policy-config file://cc3.json >/dev/null && ok "19.1 disable policy" || bad "19.1 disable policy"
$CF get-distribution-config --id "$P" > pc.json; PE=$(jq -r .ETag pc.json)
jq '.DistributionConfig.ContinuousDeploymentPolicyId="" | .DistributionConfig' pc.json > pc5.json
$CF update-distribution --id "$P" --if-match "$PE" --distribution-config file://pc5.json >/dev/null && ok "19.2 detach policy" || bad "19.2 detach policy"
CE=$($CF get-continuous-deployment-policy --id "$CDP" --query ETag --output text)
$CF delete-continuous-deployment-policy --id "$CDP" --if-match "$CE" && ok "19.3 delete policy" || bad "19.3 delete policy"
$CF get-distribution-config --id "$S" > sc.json; SE=$(jq -r .ETag sc.json)
jq '.DistributionConfig.Enabled=false | .DistributionConfig' sc.json > sc5.json
$CF update-distribution --id "$S" --if-match "$SE" --distribution-config file://sc5.json > sd.json && ok "19.4 disable staging" || bad "19.4 disable staging"
timeout 30 $CF wait distribution-deployed --id "$S"
$CF delete-distribution --id "$S" --if-match "$(jq -r .ETag sd.json)" && ok "19.5 delete staging" || bad "19.5 delete staging"
$CF get-distribution-config --id "$P" > pc.json; PE=$(jq -r .ETag pc.json)
jq '.DistributionConfig.Enabled=false | .DistributionConfig' pc.json > pc6.json
$CF update-distribution --id "$P" --if-match "$PE" --distribution-config file://pc6.json > pd.json && ok "19.6 disable primary" || bad "19.6 disable primary"
expect_err "19c delete with stale ETag" PreconditionFailed $CF delete-distribution --id "$P" --if-match "$STALE"
timeout 30 $CF wait distribution-deployed --id "$P"
$CF delete-distribution --id "$P" --if-match "$(jq -r .ETag pd.json)" && ok "19.6 delete primary" || bad "19.6 delete primary"
expect_err "19 primary is gone" NoSuchDistribution $CF get-distribution --id "$P"

# 20 boto3 parity
check "20 boto3 parses the policy list" python3 -c "
import boto3
c = boto3.client('cloudfront', endpoint_url='$EP')
q = c.list_continuous_deployment_policies()['ContinuousDeploymentPolicyList']['Quantity']
assert q == 1, q  # the second policy (row 7) is still there"

# 21 refused input: CloudFront's code and exact message, read by the CLI
expect_msg() {
  local name=$1 code=$2 msg=$3; shift 3
  local out
  if out=$("$@" 2>&1); then bad "$name: expected $code, got success"; return 0; fi
  if grep -qF "($code)" <<<"$out" && grep -qF -- ": $msg" <<<"$out"; then ok "$name ($code)"; else bad "$name: expected $code \"$msg\": $out"; fi
}
expect_msg "21a unknown distribution" NoSuchDistribution "The specified distribution does not exist." \
  $CF get-distribution --id E000000000000
jq '.CallerReference="refused-1" | .Aliases={Quantity:0}' primary.json > r1.json
R1=$($CF create-distribution --distribution-config file://r1.json --query Distribution.Id --output text)
expect_msg "21b caller reference taken names the owner" DistributionAlreadyExists \
  "The caller reference that you are using to create a distribution is associated with another distribution. Already exists: $R1" \
  $CF create-distribution --distribution-config file://r1.json
jq '.CallerReference="refused-2" | .Aliases={Quantity:0} | .DefaultCacheBehavior.TrustedSigners={Enabled:true,Quantity:1,Items:["self"]}' primary.json > r2.json
expect_err "21c trusted signers are not enforced" InvalidArgument $CF create-distribution --distribution-config file://r2.json
jq '.CallerReference="refused-3" | .Aliases={Quantity:0} | .Origins.Items[0].CustomHeaders={Quantity:1,Items:[{HeaderName:"Transfer-Encoding",HeaderValue:"chunked"}]}' primary.json > r3.json
expect_msg "21d origin header CloudFront cannot add" InvalidArgument "The parameter HeaderName : Transfer-Encoding is not allowed." \
  $CF create-distribution --distribution-config file://r3.json
jq '.CallerReference="refused-4" | .Aliases={Quantity:0} | .Origins.Items[0] |= (del(.CustomOriginConfig) | .DomainName="origin.example.com" | .S3OriginConfig={OriginAccessIdentity:""})' primary.json > r4.json
expect_msg "21e S3 origin that is no bucket" InvalidArgument "The parameter Origin DomainName does not refer to a valid S3 bucket." \
  $CF create-distribution --distribution-config file://r4.json
jq '.CallerReference="refused-5" | .Aliases={Quantity:0} | .CacheBehaviors={Quantity:26,Items:[range(26) as $i | {PathPattern:"/p\($i)/*",TargetOriginId:"web",ViewerProtocolPolicy:"allow-all",CachePolicyId:"4135ea2d-6df8-44a3-9df3-4b5a84be39ad"}]}' primary.json > r5.json
expect_err "21f 26 cache behaviors" TooManyCacheBehaviors $CF create-distribution --distribution-config file://r5.json
python3 -c 'import json,sys; c=json.load(open("primary.json")); c["CallerReference"]="r"*32800; c["Aliases"]={"Quantity":0}; json.dump(c,open("r6.json","w"))'
expect_err "21g 32,800-character caller reference" InvalidArgument $CF create-distribution --distribution-config file://r6.json

# 22 custom cache policy: CRUD, errors, ListDistributionsByCachePolicyId
cat > cp.json <<'EOF'
{"Name":"acceptance-cp","MinTTL":0,"DefaultTTL":60,"MaxTTL":300,
 "ParametersInCacheKeyAndForwardedToOrigin":{"EnableAcceptEncodingGzip":false,
  "HeadersConfig":{"HeaderBehavior":"none"},"CookiesConfig":{"CookieBehavior":"none"},
  "QueryStringsConfig":{"QueryStringBehavior":"whitelist","QueryStrings":{"Quantity":1,"Items":["v"]}}}}
EOF
$CF create-cache-policy --cache-policy-config file://cp.json > cpo.json
CP=$(jq -r .CachePolicy.Id cpo.json); CPE=$(jq -r .ETag cpo.json)
check "22 create-cache-policy: Location" test -n "$(jq -r '.Location // empty' cpo.json)"
expect_err "22 duplicate name" CachePolicyAlreadyExists $CF create-cache-policy --cache-policy-config file://cp.json
jq '.Name="ttl" | .MinTTL=100 | .DefaultTTL=10' cp.json > cpbad.json
expect_err "22 TTL order" InvalidArgument $CF create-cache-policy --cache-policy-config file://cpbad.json
jq '.Name="many" | .ParametersInCacheKeyAndForwardedToOrigin.HeadersConfig={"HeaderBehavior":"whitelist","Headers":{"Quantity":11,"Items":["a","b","c","d","e","f","g","h","i","j","k"]}}' cp.json > cpmany.json
expect_err "22 too many headers" TooManyHeadersInCachePolicy $CF create-cache-policy --cache-policy-config file://cpmany.json
check "22 list --type custom" test "$($CF list-cache-policies --type custom --query 'CachePolicyList.Quantity' --output text)" = 1
expect_err "22 managed policy is read-only" IllegalDelete $CF delete-cache-policy --id 658327ea-f89d-4fab-a63d-7e88639e58f6 --if-match x
jq '.DefaultTTL=120' cp.json > cp2.json
$CF update-cache-policy --id "$CP" --if-match "$CPE" --cache-policy-config file://cp2.json > cpu.json
check "22 update: DefaultTTL" test "$(jq -r .CachePolicy.CachePolicyConfig.DefaultTTL cpu.json)" = 120
expect_err "22 update with stale ETag" PreconditionFailed $CF update-cache-policy --id "$CP" --if-match "$CPE" --cache-policy-config file://cp2.json
jq --arg cp "$CP" '.CallerReference="cp-user" | .Aliases={"Quantity":0} | .DefaultCacheBehavior.CachePolicyId=$cp' primary.json > cpd.json
CPD=$($CF create-distribution --distribution-config file://cpd.json --query Distribution.Id --output text)
check "22 ListDistributionsByCachePolicyId" test "$($CF list-distributions-by-cache-policy-id --cache-policy-id "$CP" --query 'DistributionIdList.Items[0]' --output text)" = "$CPD"
expect_err "22 delete in use" CachePolicyInUse $CF delete-cache-policy --id "$CP" --if-match "$(jq -r .ETag cpu.json)"

# 23 public key, key group, signed URLs at the edge (aws cloudfront sign)
openssl genrsa -traditional -out sign.pem 2048 2>/dev/null; openssl rsa -pubout -in sign.pem -out sign.pub 2>/dev/null
jq -n --rawfile k sign.pub '{CallerReference:"acc-key",Name:"acc-key",EncodedKey:$k}' > pk.json
$CF create-public-key --public-key-config file://pk.json > pko.json
KID=$(jq -r .PublicKey.Id pko.json)
check "23 EncodedKey round-trips" test "$(jq -r .PublicKey.PublicKeyConfig.EncodedKey pko.json)" = "$(cat sign.pub; echo)"
expect_err "23 duplicate caller reference" PublicKeyAlreadyExists $CF create-public-key --public-key-config file://pk.json
$CF create-key-group --key-group-config "Name=acc-group,Items=$KID" > kgo.json
KG=$(jq -r .KeyGroup.Id kgo.json)
expect_err "23 key in a group" PublicKeyInUse $CF delete-public-key --id "$KID" --if-match "$(jq -r .ETag pko.json)"
jq --arg kg "$KG" '.CallerReference="signed-1" | .Aliases={"Quantity":0} | .DefaultCacheBehavior.TrustedKeyGroups={"Enabled":true,"Quantity":1,"Items":[$kg]}' primary.json > sd1.json
$CF create-distribution --distribution-config file://sd1.json > sdo.json
SD=$(jq -r .Distribution.Id sdo.json); SDOM=$(jq -r .Distribution.DomainName sdo.json)
check "23 ListDistributionsByKeyGroup" test "$($CF list-distributions-by-key-group --key-group-id "$KG" --query 'DistributionIdList.Items[0]' --output text)" = "$SD"
expect_err "23 key group in use" ResourceInUse $CF delete-key-group --id "$KG" --if-match "$(jq -r .ETag kgo.json)"
jq '.DefaultCacheBehavior.TrustedKeyGroups={"Enabled":false,"Quantity":0} | .DefaultCacheBehavior.TrustedSigners={"Enabled":true,"Quantity":1,"Items":["self"]} | .CallerReference="signers-1"' sd1.json > ts.json
expect_err "23 legacy TrustedSigners refused" InvalidArgument $CF create-distribution --distribution-config file://ts.json
timeout 30 $CF wait distribution-deployed --id "$SD"
EDGE=http://127.0.0.1:$EDGE_PORT
code() { curl -s -o /dev/null -w '%{http_code}' -H "Host: $SDOM" "$@"; }
check "23 unsigned request: 403" test "$(code "$EDGE/private.txt")" = 403
check "23 unsigned request: MissingKey body" grep -q MissingKey <(curl -s -H "Host: $SDOM" "$EDGE/private.txt")
SIGNED=$(aws cloudfront sign --url "http://$SDOM/private.txt" --key-pair-id "$KID" --private-key file://sign.pem --date-less-than "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)")
check "23 aws cloudfront sign URL passes the edge (not 403)" test "$(code "$EDGE${SIGNED#http://$SDOM}")" != 403
EXPIRED=$(aws cloudfront sign --url "http://$SDOM/private.txt" --key-pair-id "$KID" --private-key file://sign.pem --date-less-than "$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%SZ)")
check "23 expired signed URL: 403" test "$(code "$EDGE${EXPIRED#http://$SDOM}")" = 403

# 24 origin access identity (legacy) on an S3 origin
$CF create-cloud-front-origin-access-identity --cloud-front-origin-access-identity-config CallerReference=oai-acc,Comment=legacy > oai.json
OAI=$(jq -r .CloudFrontOriginAccessIdentity.Id oai.json)
check "24 S3CanonicalUserId" grep -Eq '^[0-9a-f]{96}$' <<<"$(jq -r .CloudFrontOriginAccessIdentity.S3CanonicalUserId oai.json)"
check "24 list" test "$($CF list-cloud-front-origin-access-identities --query 'length(CloudFrontOriginAccessIdentityList.Items)' --output text)" = 1
jq --arg oai "origin-access-identity/cloudfront/$OAI" '.CallerReference="oai-user" | .Aliases={"Quantity":0} | .Origins.Items[0]={"Id":"web","DomainName":"bucket.s3.amazonaws.com","S3OriginConfig":{"OriginAccessIdentity":$oai}}' primary.json > oaid.json
check "24 S3 origin with the OAI" $CF create-distribution --distribution-config file://oaid.json --query Distribution.Id --output text
jq '.CallerReference="oai-bad" | .Origins.Items[0].S3OriginConfig.OriginAccessIdentity="origin-access-identity/cloudfront/ENOTANOAI00000"' oaid.json > oaibad.json
expect_err "24 unknown OAI" InvalidOriginAccessIdentity $CF create-distribution --distribution-config file://oaibad.json
expect_err "24 OAI in use" CloudFrontOriginAccessIdentityInUse $CF delete-cloud-front-origin-access-identity --id "$OAI" --if-match "$(jq -r .ETag oai.json)"

# 25 boto3 on the resource operations: shapes parse, errors map to boto3's modeled exceptions
check "25 boto3 reads policies, keys, key groups and OAIs" python3 -c "
import boto3
c = boto3.client('cloudfront', endpoint_url='$EP')
cp = c.get_cache_policy(Id='$CP')
assert cp['CachePolicy']['CachePolicyConfig']['DefaultTTL'] == 120, cp
assert c.get_cache_policy_config(Id='$CP')['ETag'] == cp['ETag']
assert c.list_cache_policies(Type='custom')['CachePolicyList']['Quantity'] == 1
assert c.list_origin_request_policies(Type='managed')['OriginRequestPolicyList']['Quantity'] > 0
assert c.list_response_headers_policies(Type='managed')['ResponseHeadersPolicyList']['Quantity'] > 0
assert c.list_distributions_by_cache_policy_id(CachePolicyId='$CP')['DistributionIdList']['Items'] == ['$CPD']
pk = c.get_public_key(Id='$KID')['PublicKey']
assert pk['PublicKeyConfig']['EncodedKey'].strip() == open('sign.pub').read().strip()
assert c.list_public_keys()['PublicKeyList']['Quantity'] == 1
assert c.get_key_group(Id='$KG')['KeyGroup']['KeyGroupConfig']['Items'] == ['$KID']
assert c.list_key_groups()['KeyGroupList']['Quantity'] == 1
assert c.list_distributions_by_key_group(KeyGroupId='$KG')['DistributionIdList']['Items'] == ['$SD']
o = c.get_cloud_front_origin_access_identity(Id='$OAI')['CloudFrontOriginAccessIdentity']
assert len(o['S3CanonicalUserId']) == 96, o
try:
    c.get_cache_policy(Id='00000000-0000-0000-0000-000000000000'); raise SystemExit('no error')
except c.exceptions.NoSuchCachePolicy:
    pass
try:
    c.get_public_key(Id='KNOTAKEY000000'); raise SystemExit('no error')
except c.exceptions.NoSuchPublicKey:
    pass
try:
    c.delete_cloud_front_origin_access_identity(Id='$OAI', IfMatch='$(jq -r .ETag oai.json)'); raise SystemExit('no error')
except c.exceptions.CloudFrontOriginAccessIdentityInUse:
    pass
"

# 26 boto3 writes on every resource kind: create, update with If-Match, delete,
# and CloudFront's errors on the way (names taken, stale ETags, in use, managed)
out=$(python3 "$ROOT/scripts/cli-acceptance-resources.py" "$EP" primary.json sign.pub 2>&1) || true
while IFS= read -r line; do
  case $line in
    "ok   "*) ok "26 boto3 ${line#ok   }" ;;
    "FAIL "*) bad "26 boto3 ${line#FAIL }" ;;
  esac
done <<<"$out"
grep -q '^ok   OAI: gone after delete' <<<"$out" || bad "26 boto3 writes did not run to the end: $(tail -5 <<<"$out")"

echo "cli-acceptance: $PASS passed, $FAIL failed"
if [ "$FAIL" -ne 0 ]; then echo "--- server log"; tail -50 "$WORK/server.log"; exit 1; fi
