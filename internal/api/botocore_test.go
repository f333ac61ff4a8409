package api_test

import (
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"testing"
)

// botocoreScript drives a continuous-deployment cycle with botocore's
// CloudFront client (what boto3 and the aws CLI use), so botocore's own
// REST-XML parser reads every response and error body.
const botocoreScript = `
import json, sys
import botocore.session
from botocore.config import Config
from botocore.exceptions import ClientError

endpoint, key, secret = sys.argv[1:4]
c = botocore.session.get_session().create_client(
    'cloudfront', region_name='us-east-1', endpoint_url=endpoint,
    aws_access_key_id=key, aws_secret_access_key=secret,
    config=Config(retries={'total_max_attempts': 1}))
out = {}
cfg = {'CallerReference': 'boto-primary', 'Comment': '', 'Enabled': True,
       'Aliases': {'Quantity': 1, 'Items': ['boto.example.com']},
       'Origins': {'Quantity': 1, 'Items': [{'Id': 'web', 'DomainName': '127.0.0.1', 'OriginPath': '/v1',
           'CustomOriginConfig': {'HTTPPort': 8081, 'HTTPSPort': 443, 'OriginProtocolPolicy': 'http-only'}}]},
       'DefaultCacheBehavior': {'TargetOriginId': 'web', 'ViewerProtocolPolicy': 'allow-all',
           'CachePolicyId': '4135ea2d-6df8-44a3-9df3-4b5a84be39ad'}}
r = c.create_distribution(DistributionConfig=cfg)
pid = r['Distribution']['Id']
out['create'] = [r['ResponseMetadata']['HTTPStatusCode'], r['Location'].endswith('/2020-05-31/distribution/' + pid), len(r['ETag'])]
c.get_waiter('distribution_deployed').wait(Id=pid, WaiterConfig={'Delay': 1, 'MaxAttempts': 2})
gc = c.get_distribution_config(Id=pid)
out['defaults'] = [gc['DistributionConfig']['Staging'], gc['DistributionConfig']['ContinuousDeploymentPolicyId'],
                   gc['DistributionConfig']['Aliases'].get('Items'), gc['DistributionConfig']['CacheBehaviors']]
s = c.copy_distribution(PrimaryDistributionId=pid, Staging=True, IfMatch=gc['ETag'], CallerReference='boto-staging')
sid, sdom = s['Distribution']['Id'], s['Distribution']['DomainName']
out['copy'] = [s['ResponseMetadata']['HTTPStatusCode'], s['Distribution']['DistributionConfig']['Staging'],
               s['Distribution']['DistributionConfig']['Aliases']]
p = c.create_continuous_deployment_policy(ContinuousDeploymentPolicyConfig={
    'StagingDistributionDnsNames': {'Quantity': 1, 'Items': [sdom]}, 'Enabled': True,
    'TrafficConfig': {'Type': 'SingleWeight', 'SingleWeightConfig': {'Weight': 0.1,
        'SessionStickinessConfig': {'IdleTTL': 300, 'MaximumTTL': 600}}}})
pol = p['ContinuousDeploymentPolicy']['Id']
out['policy_weight'] = p['ContinuousDeploymentPolicy']['ContinuousDeploymentPolicyConfig']['TrafficConfig']['SingleWeightConfig']['Weight']
gc['DistributionConfig']['ContinuousDeploymentPolicyId'] = pol
c.update_distribution(Id=pid, IfMatch=gc['ETag'], DistributionConfig=gc['DistributionConfig'])
out['policies'] = c.list_continuous_deployment_policies()['ContinuousDeploymentPolicyList']['Quantity']
out['staging_flags'] = sorted(d['Staging'] for d in c.list_distributions()['DistributionList']['Items'])
pe, se = c.get_distribution(Id=pid)['ETag'], c.get_distribution(Id=sid)['ETag']
pr = c.update_distribution_with_staging_config(Id=pid, StagingDistributionId=sid, IfMatch=pe + ', ' + se)
out['promote'] = [pr['ETag'] != pe, pr['Distribution']['DistributionConfig']['Aliases']['Items']]
inv = c.create_invalidation(DistributionId=pid, InvalidationBatch={'Paths': {'Quantity': 1, 'Items': ['/*']}, 'CallerReference': 'cli-1'})
c.get_waiter('invalidation_completed').wait(DistributionId=pid, Id=inv['Invalidation']['Id'], WaiterConfig={'Delay': 1, 'MaxAttempts': 2})
out['invalidations'] = c.list_invalidations(DistributionId=pid)['InvalidationList']['Quantity']
try:
    c.get_distribution(Id='E000000000000')
except ClientError as e:
    md = e.response['ResponseMetadata']
    out['error'] = [e.response['Error']['Code'], e.response['Error']['Type'], md['HTTPStatusCode'], len(md['RequestId'])]
print(json.dumps(out))
`

func TestBotocoreParity(t *testing.T) {
	t.Parallel()
	python, err := exec.LookPath("python3")
	if err != nil {
		t.Skip("python3 not installed")
	}
	if exec.Command(python, "-c", "import botocore").Run() != nil {
		t.Skip("botocore not installed")
	}
	e := newEnv(t)
	cmd := exec.Command(python, "-c", botocoreScript, e.url, testKeyID, testSecret)
	cmd.Env = append(cmd.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	stdout, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("botocore script: %v\n%s", err, stderr)
	}
	var got map[string]any
	if err := json.Unmarshal(stdout, &got); err != nil {
		t.Fatalf("script output %q: %v", stdout, err)
	}
	want := map[string]any{
		"create":        []any{201.0, true, 14.0},
		"defaults":      []any{false, "", []any{"boto.example.com"}, map[string]any{"Quantity": 0.0}},
		"copy":          []any{201.0, true, map[string]any{"Quantity": 0.0}},
		"policy_weight": 0.1,
		"policies":      1.0,
		"staging_flags": []any{false, true},
		"promote":       []any{true, []any{"boto.example.com"}},
		"invalidations": 1.0,
		"error":         []any{"NoSuchDistribution", "Sender", 404.0, 36.0},
	}
	for k, w := range want {
		if !reflect.DeepEqual(got[k], w) {
			t.Errorf("%s = %#v, want %#v", k, got[k], w)
		}
	}
	if t.Failed() {
		t.Logf("script output: %s", strings.TrimSpace(string(stdout)))
	}
}
