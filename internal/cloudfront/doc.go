// Package cloudfront owns the CloudFront 2020-05-31 API's resource shapes
// (generated from the botocore model into shapes_gen.go), CloudFront's
// validation rules and its error codes with their HTTP statuses. It is pure:
// no I/O, no clock, no randomness; callers pass what they need. Everything
// else in stagefront may import it; it imports nothing of stagefront.
package cloudfront

//go:generate go run ./gen -out shapes_gen.go
