// Command gobaseline is bench/edge.sh's reference point for what a Go
// server can do on the machine without any of the edge's work: no routing,
// no cache, no policies, no metrics. It serves on ADDR with fasthttp,
// which the edge's default engine also uses.
//
//	gobaseline static ADDR          a constant 1 KiB body with the headers of a cached hit
//	gobaseline proxy ADDR ORIGIN    each request fetched from ORIGIN (host:port) with a pooled fasthttp.HostClient
//
// It takes no part in the product; bench/edge.sh runs it when BASELINE=1.
package main

import (
	"bytes"
	"fmt"
	"os"

	"github.com/valyala/fasthttp"
)

func main() {
	if len(os.Args) < 3 || (os.Args[1] == "proxy" && len(os.Args) < 4) {
		fmt.Fprintln(os.Stderr, "usage: gobaseline static ADDR | gobaseline proxy ADDR ORIGIN")
		os.Exit(2)
	}
	var handler fasthttp.RequestHandler
	switch os.Args[1] {
	case "static":
		body := bytes.Repeat([]byte("a"), 1024)
		handler = func(ctx *fasthttp.RequestCtx) {
			h := &ctx.Response.Header
			h.Set("Content-Type", "text/plain")
			h.Set("Last-Modified", "Sun, 22 Nov 2026 02:27:27 GMT")
			h.Set("Etag", `"6b02530f-400"`)
			h.Set("Accept-Ranges", "bytes")
			h.Set("Via", "1.1 stagefront")
			h.Set("Age", "0")
			h.Set("X-Cache", "Hit from stagefront")
			ctx.Response.SetBodyRaw(body)
		}
	case "proxy":
		origin := os.Args[3]
		client := &fasthttp.HostClient{Addr: origin, MaxConns: 4096}
		handler = func(ctx *fasthttp.RequestCtx) {
			req := fasthttp.AcquireRequest()
			defer fasthttp.ReleaseRequest(req)
			ctx.Request.Header.CopyTo(&req.Header)
			req.Header.SetHost(origin)
			if err := client.Do(req, &ctx.Response); err != nil {
				ctx.Error(err.Error(), fasthttp.StatusBadGateway)
			}
		}
	default:
		fmt.Fprintln(os.Stderr, "gobaseline: mode must be static or proxy")
		os.Exit(2)
	}
	s := &fasthttp.Server{Handler: handler, NoDefaultServerHeader: true, NoDefaultContentType: true}
	if err := s.ListenAndServe(os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "gobaseline:", err)
		os.Exit(1)
	}
}
