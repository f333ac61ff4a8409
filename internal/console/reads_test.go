package console_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stagefront/stagefront/internal/testutil"
)

// manyDistributions creates n distributions (one of them a primary with a
// staging pair would not change the count: every row is one read).
func manyDistributions(t testing.TB, e *env, n int) {
	t.Helper()
	for i := range n {
		e.createDistribution(fmt.Sprintf("site %d", i))
	}
}

// TestListPageAddsNoReadPerItem: the distributions page costs what the
// API's ListDistributions costs, plus a constant number of lists (policies,
// their attachments, releases): no store read per distribution of its own.
func TestListPageAddsNoReadPerItem(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	const n = 200
	manyDistributions(t, e, n)
	b := e.signedIn("192.0.2.1")
	before := e.reads.Reads.Load()
	_, err := e.svc.ListDistributions(t.Context(), "", 1000)
	testutil.Must(t, err)
	listCost := e.reads.Reads.Load() - before
	before = e.reads.Reads.Load()
	resp := b.do("GET", "/console/distributions", nil)
	reads := e.reads.Reads.Load() - before
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d", resp.StatusCode)
	}
	if page := bodyOf(t, resp); strings.Count(page, `href="/console/distributions/E`) != n {
		t.Fatalf("the page does not show the %d distributions", n)
	}
	if limit := listCost + 5; reads > limit {
		t.Errorf("%d store reads for %d distributions, want at most ListDistributions' %d + 5", reads, n, listCost)
	}
	t.Logf("%d store reads for %d distributions (ListDistributions alone: %d)", reads, n, listCost)
}

func BenchmarkDistributionsPage200(b *testing.B) {
	e := newEnv(b, nil)
	manyDistributions(b, e, 200)
	br := e.signedIn("192.0.2.1")
	before := e.reads.Reads.Load()
	b.ResetTimer()
	for b.Loop() {
		if resp := br.do("GET", "/console/distributions", nil); resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d", resp.StatusCode)
		}
	}
	b.ReportMetric(float64(e.reads.Reads.Load()-before)/float64(b.N), "store-reads/op")
}
