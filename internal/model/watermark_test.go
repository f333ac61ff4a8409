package model

import "testing"

func TestWatermark(t *testing.T) {
	t.Parallel()
	a := Watermark{Revision: 10, Failing: map[string]int64{"E1": 8}, Reasons: map[string]string{"E1": "old"}, WithoutTLS: 1}
	b := Watermark{Revision: 7, Failing: map[string]int64{"E2": 5, "E1": 9}, Reasons: map[string]string{"E1": "new", "E2": "bad origin"}}
	fleet := a.Join(b)
	if fleet.Revision != 7 || fleet.Failing["E1"] != 9 || fleet.Failing["E2"] != 5 {
		t.Fatalf("Join = %+v, want revision 7, E1 failing at 9, E2 at 5", fleet)
	}
	if fleet.Reasons["E1"] != "new" || fleet.Reasons["E2"] != "bad origin" || fleet.WithoutTLS != 1 {
		t.Fatalf("Join = %+v, want the reasons of the later records (E1 new, E2 bad origin) and 1 edge without TLS", fleet)
	}
	if again := fleet.Join(Watermark{Revision: 9, WithoutTLS: 1}); again.WithoutTLS != 2 || again.Reasons["E1"] != "new" {
		t.Fatalf("Join with a third edge = %+v, want 2 edges without TLS and the reasons kept", again)
	}
	for _, tc := range []struct {
		id   string
		rev  int64
		want bool
	}{
		{"E3", 7, true},  // served everywhere, fails nowhere
		{"E3", 8, false}, // one edge serves 7
		{"E1", 5, false}, // an edge fails to compile E1's current config
		{"E2", 5, false},
		{"E2", 6, false}, // also when E2 was read at a later revision
	} {
		if got := fleet.Deployed(tc.id, tc.rev); got != tc.want {
			t.Errorf("Deployed(%s, %d) = %v, want %v", tc.id, tc.rev, got, tc.want)
		}
	}
	if a.Failing["E2"] != 0 || a.Reasons["E2"] != "" {
		t.Error("Join modified its receiver")
	}
}
