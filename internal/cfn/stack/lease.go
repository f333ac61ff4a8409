package stack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/stagefront/stagefront/internal/store"
)

// Operations belong to the API node that started them (Operation.Owner).
// Each node writes a heartbeat under cfn/nodes/ while it runs; recovery
// takes over an operation only when its owner is this node in an earlier
// life (the same Options.Node) or has not beaten for LeaseTTL, so a node
// starting beside a busy one leaves that one's operations alone.

// DefaultLeaseTTL is Options.LeaseTTL's default.
const DefaultLeaseTTL = 15 * time.Second

const nodePrefix = "cfn/nodes/"

type heartbeat struct {
	At time.Time `json:"at"`
}

// Beat records that this node is alive now.
func (m *Manager) Beat(ctx context.Context) error {
	b, err := json.Marshal(heartbeat{At: m.now()})
	if err != nil {
		return fmt.Errorf("stack: heartbeat: %w", err)
	}
	if _, err := m.st.Txn(ctx, nil, []store.Op{{Key: nodePrefix + m.opts.Node, Value: b}}); err != nil {
		return fmt.Errorf("stack: heartbeat: %w", err)
	}
	return nil
}

// ownerAlive reports whether node has beaten within the lease.
func (m *Manager) ownerAlive(ctx context.Context, node string) (bool, error) {
	kv, err := m.st.Get(ctx, nodePrefix+node)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("stack: read the heartbeat of %s: %w", node, err)
	}
	var hb heartbeat
	if err := json.Unmarshal(kv.Value, &hb); err != nil {
		return false, nil // unreadable: as good as none
	}
	return m.now().Sub(hb.At) < m.opts.LeaseTTL, nil
}

// recoverable reports whether this node may take over s's operation: not
// one this process runs, and owned by nobody alive but this node.
func (m *Manager) recoverable(ctx context.Context, s *Stack) (bool, error) {
	m.mu.Lock()
	mine := m.running[s.StackID]
	m.mu.Unlock()
	if mine {
		return false, nil
	}
	if owner := s.Op.Owner; owner != "" && owner != m.opts.Node {
		alive, err := m.ownerAlive(ctx, owner)
		if err != nil || alive {
			return false, err
		}
	}
	return true, nil
}

// RunRecovery beats and recovers, now and every LeaseTTL/3, in every
// region, until ctx ends: this node's operations from before a restart at
// once, a dead node's once its lease has run out. A failure is logged and
// retried on the next round.
func (m *Manager) RunRecovery(ctx context.Context) error {
	tick := time.NewTicker(m.opts.LeaseTTL / 3)
	defer tick.Stop()
	for {
		if err := m.Beat(ctx); err != nil {
			m.log.Error("cloudformation: heartbeat", "err", err)
		}
		regions, err := m.Regions(ctx)
		if err != nil {
			m.log.Error("cloudformation: recovery", "err", err)
		}
		for _, region := range regions {
			if err := m.Recover(ctx, region); err != nil {
				m.log.Error("cloudformation: recovery", "region", region, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
