package cloudfront

// Quotas are the per-distribution limits CloudFront enforces ("Quotas on
// distributions", Amazon CloudFront Developer Guide). DefaultQuotas has
// CloudFront's default values; an operator may raise or lower them as AWS
// raises them on request.
type Quotas struct {
	// AliasesPerDistribution: alternate domain names (CNAMEs).
	AliasesPerDistribution int
	// OriginsPerDistribution: origins in one distribution.
	OriginsPerDistribution int
	// CustomHeadersPerOrigin: origin custom headers on one origin.
	CustomHeadersPerOrigin int
}

// DefaultQuotas returns CloudFront's default quotas.
func DefaultQuotas() Quotas {
	return Quotas{
		AliasesPerDistribution: 100,
		OriginsPerDistribution: 100,
		CustomHeadersPerOrigin: 10,
	}
}
