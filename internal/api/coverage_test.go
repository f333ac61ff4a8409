package api_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stagefront/stagefront/internal/api"
	"github.com/stagefront/stagefront/internal/api/auth"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/testutil"
)

// modelOperations prints every operation of botocore's CloudFront
// 2020-05-31 model as "name method uri".
const modelOperations = `
import botocore.session
m = botocore.session.get_session().get_service_model('cloudfront', '2020-05-31')
for name in m.operation_names:
    h = m.operation_model(name).http
    print(name, h['method'], h['requestUri'])
`

// TestREADMEOperationCount: the README's API coverage names how many of
// the model's operations stagefront answers, and that count is true. An
// operation is answered when a request to its method and path reaches a
// handler (any answer but the router's NotFound or MethodNotAllowed).
func TestREADMEOperationCount(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("python3", "-c", modelOperations).Output()
	if err != nil {
		t.Skipf("botocore not available: %v", err)
	}
	srv := httptest.NewServer(api.New(control.New(testutil.OpenBolt(t), control.Options{}), api.Options{Verifier: auth.None(), Logger: slog.New(slog.DiscardHandler)}))
	defer srv.Close()

	placeholder := regexp.MustCompile(`\{[^}]+\}`)
	total, answered := 0, 0
	var missing []string
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		total++
		uri := placeholder.ReplaceAllString(f[2], "x")
		req, _ := http.NewRequest(f[1], srv.URL+uri, strings.NewReader(""))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", f[0], err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		routed := !strings.Contains(string(body), "<Code>NotFound</Code>") && !strings.Contains(string(body), "<Code>MethodNotAllowed</Code>")
		if routed {
			answered++
		} else {
			missing = append(missing, f[0])
		}
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(\d+) of the (\d+) operations`).FindSubmatch(readme)
	if m == nil {
		t.Fatalf("README does not say \"N of the M operations\"")
	}
	if n, _ := strconv.Atoi(string(m[1])); n != answered {
		t.Errorf("README says %s operations are answered; %d are", m[1], answered)
	}
	if n, _ := strconv.Atoi(string(m[2])); n != total {
		t.Errorf("README says the model has %s operations; it has %d", m[2], total)
	}
	t.Logf("%d of %d operations answered; not answered: %s", answered, total, strings.Join(missing, " "))
}
