package console

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stagefront/stagefront/internal/store"
)

// TestDescribeUnavailable: a store outage reaches the console as the
// store's own error (the service does not translate it) and is shown as a
// 503 ServiceUnavailable, not an internal error.
func TestDescribeUnavailable(t *testing.T) {
	t.Parallel()
	status, msg := describeError(fmt.Errorf("store transaction: %w", store.ErrUnavailable))
	if status != http.StatusServiceUnavailable || !strings.HasPrefix(msg, "ServiceUnavailable: ") {
		t.Errorf("describeError(store unavailable) = %d %q; want 503 ServiceUnavailable", status, msg)
	}
}
