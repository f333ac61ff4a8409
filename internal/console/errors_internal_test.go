package console

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stagefront/stagefront/internal/release"
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

// TestDescribeReleaseErrors: the release controller's errors are shown with
// the release API's statuses.
func TestDescribeReleaseErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("release %q: %w", "r1", release.ErrNotFound), http.StatusNotFound},
		{fmt.Errorf("r1: %w", release.ErrNotApprovable), http.StatusConflict},
		{fmt.Errorf("r1: %w", release.ErrFinished), http.StatusConflict},
		{fmt.Errorf("E1: %w", release.ErrPrimaryBusy), http.StatusConflict},
		{fmt.Errorf("r1: %w", release.ErrExists), http.StatusConflict},
		{errors.New("disk on fire"), http.StatusInternalServerError},
	} {
		if status, _ := describeError(tc.err); status != tc.want {
			t.Errorf("describeError(%v) = %d, want %d", tc.err, status, tc.want)
		}
	}
}
