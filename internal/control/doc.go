// Package control owns the business rules of the CloudFront control plane:
// create, update, delete, copy and promote distributions; continuous
// deployment policies and their one-to-one links; invalidations; origin
// access controls; tags; ETags and the "in use" checks. It knows nothing of
// HTTP: the api package decodes requests and calls it. Every mutation is one
// store transaction guarded by the revisions it read, so a promotion (the
// primary's new config plus the disabled policy) is atomic for every reader.
package control
