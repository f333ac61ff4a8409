package testutil

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumPath finds the Chromium the browser tests drive (Debian's
// package `chromium`; .ci/run installs it) and fails the test without one.
func ChromiumPath(tb testing.TB) string {
	tb.Helper()
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	tb.Fatal("no Chromium found: install it (apt-get install -y chromium); the console's browser tests need it")
	return ""
}

// Chromium starts a headless Chromium for the test and returns a chromedp
// context driving one tab of it, cancelled after limit or when the test ends
// (which also stops the browser).
func Chromium(tb testing.TB, limit time.Duration) context.Context {
	tb.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(ChromiumPath(tb)), chromedp.NoSandbox,
		chromedp.WindowSize(1200, 900), chromedp.Flag("disable-gpu", true))
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(allocCtx)
	ctx, cancel := context.WithTimeout(ctx, limit)
	tb.Cleanup(func() { cancel(); cancelBrowser(); cancelAlloc() })
	return ctx
}
