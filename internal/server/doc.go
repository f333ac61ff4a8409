// Package server wires stagefront's parts into one process for `stagefront
// serve`, `api` and `edge`: it opens the store (bbolt or etcd), builds the
// edge, the CloudFront API, the release controller and its JSON API, the
// web console (/console/ on the API listener) and the admin endpoints, then
// listens on every address first (so a port clash fails fast) and runs the
// listeners and background loops under one errgroup until the context
// ends, shutting down gracefully.
//
// It holds no logic of its own beyond that wiring, plus the adapter that
// lets the release controller persist its records in the store
// (internal/release does not import internal/store).
package server
