package release

import (
	"encoding/json"
	"fmt"
	"time"
)

// The spec's durations travel in JSON (the API, `status --json`, the
// store) as Go duration strings such as "10m0s", which people can read.
// Decoding also takes a number of nanoseconds, the form earlier versions
// wrote, so stored releases keep loading.

// jsonDuration is a time.Duration in its JSON form.
type jsonDuration time.Duration

func (d jsonDuration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

func (d *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := time.ParseDuration(s)
		if err != nil {
			return fmt.Errorf("%q is not a duration (like 30s, 10m, 24h): %w", s, err)
		}
		*d = jsonDuration(v)
		return nil
	}
	var n int64
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("a duration is a string like \"10m\": %w", err)
	}
	*d = jsonDuration(n)
	return nil
}

// MarshalJSON writes Hold as a duration string.
func (h HeaderStep) MarshalJSON() ([]byte, error) {
	type plain HeaderStep
	return json.Marshal(struct {
		plain
		Hold jsonDuration `json:"hold,omitempty"`
	}{plain(h), jsonDuration(h.Hold)})
}

// UnmarshalJSON reads Hold as a duration string (or nanoseconds).
func (h *HeaderStep) UnmarshalJSON(b []byte) error {
	type plain HeaderStep
	aux := struct {
		*plain
		Hold jsonDuration `json:"hold,omitempty"`
	}{plain: (*plain)(h)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	h.Hold = time.Duration(aux.Hold)
	return nil
}

// MarshalJSON writes Timeout as a duration string.
func (a ApproveStep) MarshalJSON() ([]byte, error) {
	type plain ApproveStep
	return json.Marshal(struct {
		plain
		Timeout jsonDuration `json:"timeout,omitempty"`
	}{plain(a), jsonDuration(a.Timeout)})
}

// UnmarshalJSON reads Timeout as a duration string (or nanoseconds).
func (a *ApproveStep) UnmarshalJSON(b []byte) error {
	type plain ApproveStep
	aux := struct {
		*plain
		Timeout jsonDuration `json:"timeout,omitempty"`
	}{plain: (*plain)(a)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	a.Timeout = time.Duration(aux.Timeout)
	return nil
}

// MarshalJSON writes Hold as a duration string.
func (w WeightStep) MarshalJSON() ([]byte, error) {
	type plain WeightStep
	return json.Marshal(struct {
		plain
		Hold jsonDuration `json:"hold,omitempty"`
	}{plain(w), jsonDuration(w.Hold)})
}

// UnmarshalJSON reads Hold as a duration string (or nanoseconds).
func (w *WeightStep) UnmarshalJSON(b []byte) error {
	type plain WeightStep
	aux := struct {
		*plain
		Hold jsonDuration `json:"hold,omitempty"`
	}{plain: (*plain)(w)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	w.Hold = time.Duration(aux.Hold)
	return nil
}

// MarshalJSON writes Idle and Max as duration strings.
func (s Stickiness) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Idle jsonDuration `json:"idle"`
		Max  jsonDuration `json:"max"`
	}{jsonDuration(s.Idle), jsonDuration(s.Max)})
}

// UnmarshalJSON reads Idle and Max as duration strings (or nanoseconds).
func (s *Stickiness) UnmarshalJSON(b []byte) error {
	var aux struct {
		Idle jsonDuration `json:"idle"`
		Max  jsonDuration `json:"max"`
	}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	s.Idle, s.Max = time.Duration(aux.Idle), time.Duration(aux.Max)
	return nil
}

// MarshalJSON writes Interval as a duration string.
func (a Analysis) MarshalJSON() ([]byte, error) {
	type plain Analysis
	return json.Marshal(struct {
		plain
		Interval jsonDuration `json:"interval"`
	}{plain(a), jsonDuration(a.Interval)})
}

// UnmarshalJSON reads Interval as a duration string (or nanoseconds).
func (a *Analysis) UnmarshalJSON(b []byte) error {
	type plain Analysis
	aux := struct {
		*plain
		Interval jsonDuration `json:"interval"`
	}{plain: (*plain)(a)}
	if err := json.Unmarshal(b, &aux); err != nil {
		return err
	}
	a.Interval = time.Duration(aux.Interval)
	return nil
}

// MarshalJSON writes rollbackTo for every rollback, generation 0 included
// (a plain omitempty would drop "rollbackTo": 0).
func (g Generation) MarshalJSON() ([]byte, error) {
	type plain Generation
	out := struct {
		plain
		RollbackTo *int `json:"rollbackTo,omitempty"`
	}{plain: plain(g)}
	if g.Kind == "rollback" {
		out.RollbackTo = &g.From
	}
	return json.Marshal(out)
}
