// Package identity carries who is acting through a request's context: the
// name of the authenticated principal (an API credential's name), set by
// the API's SigV4 middleware and by the web console's session, and read by
// the control plane to record who did what. It imports nothing of
// stagefront, so every layer may use it.
package identity

import "context"

type principalKey struct{}

// With returns a copy of ctx carrying the principal's name.
func With(ctx context.Context, principal string) context.Context {
	return context.WithValue(ctx, principalKey{}, principal)
}

// From returns the principal's name in ctx, or "" when nobody authenticated.
func From(ctx context.Context) string {
	name, _ := ctx.Value(principalKey{}).(string)
	return name
}
