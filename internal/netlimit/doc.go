// Package netlimit wraps a net.Listener so that a server keeps serving
// when its clients or the machine misbehave: accept errors that pass
// (EMFILE, ENFILE, ENOBUFS, ECONNABORTED…) are logged and retried with a
// backoff instead of ending the server, and the connections a listener
// holds are capped in total and per client address, the ones over a cap
// being closed as soon as they are accepted. Counters are exported as
// Prometheus metrics.
//
// A Limiter holds the caps and the counts; several listeners may share
// one (the edge's HTTP and HTTPS listeners do). Wrap is called once per
// listener at startup; the wrapped listener lives as long as the server
// that serves it, and closing it stops a pending backoff.
package netlimit
