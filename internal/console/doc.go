// Package console serves stagefront's web console under /console/ on the
// API listener: sign-in with a named API credential, server-rendered pages
// of distributions, releases and their history, the release actions a
// person takes (approve, reject, abort, roll back, invalidate), and live
// traffic per primary/staging pair over server-sent events.
//
// It owns no state of its own beyond the signed-in sessions, which live in
// memory (a restart signs everyone out). Every action calls the same
// services the CloudFront API and the release API call (control.Service and
// release.Controller), with the signed-in credential's name as the
// principal, so the console's actions land in the same history as the CLI's.
//
// Pages are html/template (contextual escaping) with assets embedded in the
// binary; the only script is assets/console.js, served from the console's
// own origin, so the Content-Security-Policy forbids inline script.
// Lifecycle: New builds the handler; nothing runs in the background except
// one goroutine per open live-traffic stream, which ends with its request.
package console
