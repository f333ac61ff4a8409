// Package cfn is the CloudFormation template engine: it parses templates
// (YAML with the short-form tags, or JSON), checks their structure, binds
// parameters, evaluates conditions, mappings and intrinsic functions, and
// orders resources by their dependencies.
//
// It is pure: no I/O, no store, no CloudFront calls. Resource types, stacks
// and the wire protocol live in the sub-packages resource, stack and
// queryapi. Scalars keep their source text (`0.15` stays "0.15"); the
// resource layer coerces them to the type each property needs.
package cfn
