package storetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stagefront/stagefront/internal/store"
)

// waitTimeout bounds every wait for a watch response, so a broken backend
// fails the test instead of hanging it.
const waitTimeout = 10 * time.Second

// Run runs the conformance suite against the backend that open creates. open
// must return a new, empty store each time it is called; Run closes it.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	t.Helper()
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"GetMissing", testGetMissing},
		{"PutGetDelete", testPutGetDelete},
		{"RevisionsIncreaseByOne", testRevisionsIncreaseByOne},
		{"EmptyTxn", testEmptyTxn},
		{"Conds", testConds},
		{"Atomicity", testAtomicity},
		{"List", testList},
		{"WatchReplayThenLive", testWatchReplayThenLive},
		{"WatchFromNow", testWatchFromNow},
		{"WatchFutureRevision", testWatchFutureRevision},
		{"WatchPrefix", testWatchPrefix},
		{"WatchEvents", testWatchEvents},
		{"WatchManyWatchers", testWatchManyWatchers},
		{"ListThenWatch", testListThenWatch},
		{"ConcurrentWriters", testConcurrentWriters},
		{"WatchCancel", testWatchCancel},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() {
				if err := s.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
			tc.fn(t, s)
		})
	}
}

func put(key, value string) store.Op { return store.Op{Key: key, Value: []byte(value)} }
func del(key string) store.Op        { return store.Op{Key: key, Delete: true} }

func txn(t *testing.T, s store.Store, conds []store.Cond, ops ...store.Op) int64 {
	t.Helper()
	rev, err := s.Txn(t.Context(), conds, ops)
	if err != nil {
		t.Fatalf("Txn(%v, %v): %v", conds, ops, err)
	}
	return rev
}

func revision(t *testing.T, s store.Store) int64 {
	t.Helper()
	rev, err := s.Revision(t.Context())
	if err != nil {
		t.Fatalf("Revision: %v", err)
	}
	return rev
}

// kvState is the comparable form of a KV (Value as a string).
type kvState struct {
	Key            string
	Value          string
	ModRevision    int64
	CreateRevision int64
}

func stateOf(kv store.KV) kvState {
	return kvState{kv.Key, string(kv.Value), kv.ModRevision, kv.CreateRevision}
}

// wantKey checks that key holds want, or is missing when want is nil.
func wantKey(t *testing.T, s store.Store, key string, want *kvState) {
	t.Helper()
	kv, err := s.Get(t.Context(), key)
	if want == nil {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%q) = %+v, %v; want ErrNotFound", key, stateOf(kv), err)
		}
		return
	}
	if err != nil {
		t.Errorf("Get(%q): %v; want %+v", key, err, *want)
		return
	}
	if got := stateOf(kv); got != *want {
		t.Errorf("Get(%q) = %+v; want %+v", key, got, *want)
	}
}

func testGetMissing(t *testing.T, s store.Store) {
	txn(t, s, nil, put("present", "v"), put("a/b", "v"))
	for _, key := range []string{"missing", "a", "a/b/c", "presen", "present/"} {
		_, err := s.Get(t.Context(), key)
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%q) error = %v; want errors.Is ErrNotFound", key, err)
		}
	}
}

func testPutGetDelete(t *testing.T, s store.Store) {
	base := revision(t, s)
	rev := func(step int64) int64 { return base + step }
	steps := []struct {
		name string
		ops  []store.Op
		want map[string]*kvState // nil: key must be missing
	}{
		{
			name: "create",
			ops:  []store.Op{put("a", "1")},
			want: map[string]*kvState{"a": {"a", "1", rev(1), rev(1)}, "b": nil},
		},
		{
			name: "update one, create another",
			ops:  []store.Op{put("a", "2"), put("b", "x")},
			want: map[string]*kvState{"a": {"a", "2", rev(2), rev(1)}, "b": {"b", "x", rev(2), rev(2)}},
		},
		{
			name: "delete",
			ops:  []store.Op{del("a")},
			want: map[string]*kvState{"a": nil, "b": {"b", "x", rev(2), rev(2)}},
		},
		{
			name: "delete missing key is not an error",
			ops:  []store.Op{del("never"), put("b", "y")},
			want: map[string]*kvState{"a": nil, "never": nil, "b": {"b", "y", rev(4), rev(2)}},
		},
		{
			name: "recreate after delete gets a new create revision",
			ops:  []store.Op{put("a", "3")},
			want: map[string]*kvState{"a": {"a", "3", rev(5), rev(5)}},
		},
		{
			name: "empty value",
			ops:  []store.Op{put("empty", "")},
			want: map[string]*kvState{"empty": {"empty", "", rev(6), rev(6)}},
		},
	}
	for i, step := range steps {
		got, err := s.Txn(t.Context(), nil, step.ops)
		if err != nil {
			t.Fatalf("step %d %q: Txn: %v", i+1, step.name, err)
		}
		if want := rev(int64(i + 1)); got != want {
			t.Errorf("step %d %q: Txn revision = %d; want %d", i+1, step.name, got, want)
		}
		for key, want := range step.want {
			wantKey(t, s, key, want)
		}
	}
}

func testRevisionsIncreaseByOne(t *testing.T, s store.Store) {
	prev := revision(t, s)
	for i := range 20 {
		ops := []store.Op{put(fmt.Sprintf("r/%d", i%3), fmt.Sprint(i))}
		if i%5 == 4 {
			ops = append(ops, del(fmt.Sprintf("r/%d", (i+1)%3)))
		}
		got := txn(t, s, nil, ops...)
		if got != prev+1 {
			t.Fatalf("txn %d: revision = %d; want %d", i, got, prev+1)
		}
		if cur := revision(t, s); cur != got {
			t.Fatalf("txn %d: Revision() = %d; want %d", i, cur, got)
		}
		prev = got
	}

	// All ops of one txn share its single revision.
	rev := txn(t, s, nil, put("m/x", "1"), put("m/y", "2"), put("m/z", "3"))
	if rev != prev+1 {
		t.Errorf("multi-op txn revision = %d; want %d", rev, prev+1)
	}
	for _, key := range []string{"m/x", "m/y", "m/z"} {
		kv, err := s.Get(t.Context(), key)
		if err != nil {
			t.Fatalf("Get(%q): %v", key, err)
		}
		if kv.ModRevision != rev || kv.CreateRevision != rev {
			t.Errorf("Get(%q) revisions = mod %d, create %d; want both %d", key, kv.ModRevision, kv.CreateRevision, rev)
		}
	}
}

func testEmptyTxn(t *testing.T, s store.Store) {
	keyRev := txn(t, s, nil, put("k", "v"))
	txn(t, s, nil, put("other", "v"))
	cur := revision(t, s)
	tests := []struct {
		name    string
		conds   []store.Cond
		wantErr error
	}{
		{"no conds", nil, nil},
		{"conds hold", []store.Cond{{Key: "k", ModRevision: keyRev}, {Key: "missing", ModRevision: 0}}, nil},
		{"stale cond", []store.Cond{{Key: "k", ModRevision: keyRev - 1}}, store.ErrConflict},
		{"key exists", []store.Cond{{Key: "k", ModRevision: 0}}, store.ErrConflict},
	}
	for _, tc := range tests {
		got, err := s.Txn(t.Context(), tc.conds, nil)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: Txn(no ops) error = %v; want %v", tc.name, err, tc.wantErr)
		}
		if tc.wantErr == nil && got != cur {
			t.Errorf("%s: Txn(no ops) = %d; want current revision %d", tc.name, got, cur)
		}
		if after := revision(t, s); after != cur {
			t.Errorf("%s: Revision() after Txn(no ops) = %d; want unchanged %d", tc.name, after, cur)
		}
	}
}

func testConds(t *testing.T, s store.Store) {
	oldRev := txn(t, s, nil, put("exists", "old"))
	curRev := txn(t, s, nil, put("exists", "new"))
	tests := []struct {
		name    string
		cond    store.Cond
		wantErr error
	}{
		{"missing key, must not exist", store.Cond{Key: "missing", ModRevision: 0}, nil},
		{"missing key, revision given", store.Cond{Key: "missing", ModRevision: oldRev}, store.ErrConflict},
		{"existing key, must not exist", store.Cond{Key: "exists", ModRevision: 0}, store.ErrConflict},
		{"existing key, exact revision", store.Cond{Key: "exists", ModRevision: curRev}, nil},
		{"existing key, stale revision", store.Cond{Key: "exists", ModRevision: oldRev}, store.ErrConflict},
		{"existing key, future revision", store.Cond{Key: "exists", ModRevision: curRev + 100}, store.ErrConflict},
	}
	for i, tc := range tests {
		target := fmt.Sprintf("target/%d", i)
		before := revision(t, s)
		rev, err := s.Txn(t.Context(), []store.Cond{tc.cond}, []store.Op{put(target, "v")})
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: Txn error = %v; want %v", tc.name, err, tc.wantErr)
			continue
		}
		after := revision(t, s)
		if tc.wantErr != nil {
			if after != before {
				t.Errorf("%s: Revision() after conflict = %d; want unchanged %d", tc.name, after, before)
			}
			wantKey(t, s, target, nil)
			continue
		}
		if rev != before+1 || after != rev {
			t.Errorf("%s: Txn revision = %d, Revision() = %d; want both %d", tc.name, rev, after, before+1)
		}
		wantKey(t, s, target, &kvState{target, "v", rev, rev})
	}
	wantKey(t, s, "exists", &kvState{"exists", "new", curRev, oldRev})
}

func testAtomicity(t *testing.T, s store.Store) {
	aRev := txn(t, s, nil, put("a", "1"), put("d", "1"))
	bOld := txn(t, s, nil, put("b", "1"))
	bRev := txn(t, s, nil, put("b", "2"))
	wantBefore := map[string]*kvState{
		"a": {"a", "1", aRev, aRev},
		"b": {"b", "2", bRev, bOld},
		"c": nil,
		"d": {"d", "1", aRev, aRev},
	}
	ops := []store.Op{put("a", "x"), put("b", "x"), put("c", "x"), del("d")}
	failing := []struct {
		name  string
		conds []store.Cond
	}{
		{"first cond fails", []store.Cond{{Key: "a", ModRevision: aRev - 1}, {Key: "b", ModRevision: bRev}}},
		{"last cond fails", []store.Cond{{Key: "a", ModRevision: aRev}, {Key: "b", ModRevision: bOld}}},
		{"must-not-exist fails", []store.Cond{{Key: "a", ModRevision: aRev}, {Key: "d", ModRevision: 0}}},
		{"must-exist fails", []store.Cond{{Key: "c", ModRevision: aRev}}},
	}
	for _, tc := range failing {
		before := revision(t, s)
		_, err := s.Txn(t.Context(), tc.conds, ops)
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: Txn error = %v; want ErrConflict", tc.name, err)
		}
		if after := revision(t, s); after != before {
			t.Errorf("%s: Revision() = %d; want unchanged %d", tc.name, after, before)
		}
		for key, want := range wantBefore {
			wantKey(t, s, key, want)
		}
	}

	// The same ops with conds that hold land together at one revision.
	conds := []store.Cond{{Key: "a", ModRevision: aRev}, {Key: "b", ModRevision: bRev}, {Key: "c", ModRevision: 0}}
	rev := txn(t, s, conds, ops...)
	wantKey(t, s, "a", &kvState{"a", "x", rev, aRev})
	wantKey(t, s, "b", &kvState{"b", "x", rev, bOld})
	wantKey(t, s, "c", &kvState{"c", "x", rev, rev})
	wantKey(t, s, "d", nil)
}

func testList(t *testing.T, s store.Store) {
	revs := map[string]int64{}
	for _, key := range []string{"app/c", "app/a", "apple", "app/b/x", "ap", "b/app/1", "app/b", "app/gone"} {
		revs[key] = txn(t, s, nil, put(key, "v:"+key))
	}
	txn(t, s, nil, del("app/gone"))
	cur := revision(t, s)
	tests := []struct {
		prefix string
		want   []string
	}{
		{"app/", []string{"app/a", "app/b", "app/b/x", "app/c"}},
		{"app", []string{"app/a", "app/b", "app/b/x", "app/c", "apple"}},
		{"app/b", []string{"app/b", "app/b/x"}},
		{"b/", []string{"b/app/1"}},
		{"zzz", nil},
		{"", []string{"ap", "app/a", "app/b", "app/b/x", "app/c", "apple", "b/app/1"}},
	}
	for _, tc := range tests {
		kvs, rev, err := s.List(t.Context(), tc.prefix)
		if err != nil {
			t.Errorf("List(%q): %v", tc.prefix, err)
			continue
		}
		if rev != cur {
			t.Errorf("List(%q) revision = %d; want %d", tc.prefix, rev, cur)
		}
		var got []kvState
		for _, kv := range kvs {
			got = append(got, stateOf(kv))
		}
		var want []kvState
		for _, key := range tc.want {
			want = append(want, kvState{key, "v:" + key, revs[key], revs[key]})
		}
		if !slices.Equal(got, want) {
			t.Errorf("List(%q) =\n  %+v\nwant\n  %+v", tc.prefix, got, want)
		}
	}
}
