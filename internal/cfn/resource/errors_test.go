package resource

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stagefront/stagefront/internal/store"
)

// TestWrapUnavailable: a store outage, which the control service returns
// untranslated, fails the resource as CloudFront's ServiceUnavailable with
// HandlerErrorCode ServiceInternalError, and the store's words stay out.
func TestWrapUnavailable(t *testing.T) {
	t.Parallel()
	err := wrap("Dist", fmt.Errorf("store transaction: %w", fmt.Errorf("bolt: store closed: %w", store.ErrUnavailable)))
	var he *HandlerError
	if !errors.As(err, &he) {
		t.Fatalf("wrap = %v; want a HandlerError", err)
	}
	if !strings.Contains(he.Message, "ServiceUnavailable") || !strings.Contains(he.Message, "(HandlerErrorCode: ServiceInternalError)") || strings.Contains(he.Message, "bolt") {
		t.Errorf("wrap message = %q; want ServiceUnavailable / ServiceInternalError without the store's words", he.Message)
	}
}
