package server

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// leadership tracks whether this process runs the release controller: on
// a single node it always does once started; in a fleet only while it holds
// the etcd election. It is exported as the gauge stagefront_release_leader
// and as the admin endpoint GET /leader.
type leadership struct {
	node string
	now  func() time.Time

	mu      sync.Mutex
	leading bool
	since   time.Time // when leading last changed
}

func newLeadership(node string, now func() time.Time, reg prometheus.Registerer) *leadership {
	l := &leadership{node: node, now: now, since: now()}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "stagefront_release_leader",
		Help: "1 while this process runs the release controller (the elected leader in a fleet), else 0.",
	}, func() float64 {
		if l.Leading() {
			return 1
		}
		return 0
	}))
	return l
}

// Leading reports whether this process leads now.
func (l *leadership) Leading() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.leading
}

func (l *leadership) set(leading bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.leading != leading {
		l.leading, l.since = leading, l.now()
	}
}

// wrap returns run, marking this process as leader while run runs.
func (l *leadership) wrap(run func(context.Context) error) func(context.Context) error {
	return func(ctx context.Context) error {
		l.set(true)
		defer l.set(false)
		return run(ctx)
	}
}

// leaderStatus is GET /leader's JSON body.
type leaderStatus struct {
	Node    string    `json:"node"`
	Leader  bool      `json:"leader"`
	Since   time.Time `json:"since"`
	Summary string    `json:"summary"`
}

// ServeHTTP answers GET /leader.
func (l *leadership) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	l.mu.Lock()
	st := leaderStatus{Node: l.node, Leader: l.leading, Since: l.since.UTC()}
	l.mu.Unlock()
	st.Summary = "not leading: another node runs the release controller, or none yet"
	if st.Leader {
		st.Summary = "this node runs the release controller"
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(st)
}
