package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stagefront/stagefront/internal/release"
)

// StepLabel is "2/4 weight 15%" for a release's current step.
func StepLabel(r *release.Release) string { return r.Spec.StepLabel(r.State.Step) }

// stepClock returns how long the current step has run and how long it
// may run (0: open-ended, such as an approval without timeout).
func stepClock(live *release.Live) (elapsed, total time.Duration) {
	r := live.Release
	if r.State.Step >= len(r.Spec.Steps) {
		return 0, 0
	}
	elapsed = max(0, live.Now.Sub(r.State.StepStarted))
	switch st := r.Spec.Steps[r.State.Step]; st.Kind {
	case release.StepWeight:
		total = st.Weight.Hold
	case release.StepHeader:
		total = st.Header.Hold
	case release.StepApprove:
		total = st.Approve.Timeout
	}
	return elapsed, total
}

func progressBar(frac float64, width int) string {
	frac = min(max(frac, 0), 1)
	done := int(frac*float64(width) + 0.5)
	return "[" + strings.Repeat("#", done) + strings.Repeat("-", width-done) + "]"
}

// PrintRelease writes the human view of a release.
func PrintRelease(w io.Writer, live *release.Live, compact bool) {
	r := live.Release
	st := r.State
	fmt.Fprintf(w, "release  %s  %s\n", r.Name, st.Phase)
	if d := st.Phase.Description(); d != "" && !compact {
		fmt.Fprintf(w, "         %s\n", d)
	}
	fmt.Fprintf(w, "primary  %s (%s)   staging %s   policy %s\n", r.PrimaryID, r.Domain, orDash(st.StagingID), orDash(st.PolicyID))
	if !st.Phase.Terminal() {
		elapsed, total := stepClock(live)
		line := fmt.Sprintf("step     %s", StepLabel(r))
		if total > 0 {
			left := max(0, total-elapsed).Round(time.Second)
			line += fmt.Sprintf("  %s %3.0f%%  %v left", progressBar(float64(elapsed)/float64(total), 24), 100*float64(elapsed)/float64(total), left)
		} else if r.Spec.Steps[min(st.Step, len(r.Spec.Steps)-1)].Kind == release.StepApprove {
			line += "  waiting for `stagefront release approve|reject " + r.Name + "`"
		}
		fmt.Fprintln(w, line)
		if st.Phase == release.PhaseProgressing {
			fmt.Fprintf(w, "routing  %s\n", r.Spec.TrafficAt(st.Step))
		}
	} else {
		fmt.Fprintf(w, "ended    %s: %s\n", st.Finished.Local().Format(time.DateTime), st.Reason)
		if st.Generation > 0 {
			fmt.Fprintf(w, "         generation %d\n", st.Generation)
		}
	}
	if win := live.Window; win != nil {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "variant\trequests\t5xx\terror rate\tp95\t")
		for _, v := range []struct {
			name string
			s    release.Stats
		}{{"primary", win.Primary}, {"staging", win.Staging}} {
			fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.2f%%\t%.1fms\t\n", v.name, v.s.Requests, v.s.Errors, 100*v.s.ErrorRate, 1000*v.s.P95)
		}
		_ = tw.Flush()
		if live.Verdict != nil {
			fmt.Fprintf(w, "analysis %s\n", live.Verdict.Reason)
		}
	}
	for _, d := range st.Decisions {
		line := fmt.Sprintf("decision %s by %s at %s (step %d)", d.Verdict, d.By, d.At.Local().Format(time.DateTime), d.Step+1)
		if d.Comment != "" {
			line += ": " + d.Comment
		}
		fmt.Fprintln(w, line)
	}
	if st.LastError != "" {
		fmt.Fprintf(w, "error    %s (retrying)\n", st.LastError)
	}
	if !compact {
		events := st.Events
		if len(events) > 8 {
			events = events[len(events)-8:]
		}
		for _, e := range events {
			fmt.Fprintf(w, "  %s  %s\n", e.At.Local().Format(time.TimeOnly), e.Message)
		}
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Watch redraws the status every two seconds until the release ends.
func Watch(ctx context.Context, c *Client, name string, w io.Writer) error {
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	ticker := time.NewTicker(2 * time.Second)
	defer ticker.Stop()
	for {
		live, err := c.Status(ctx, name)
		if err != nil {
			return err
		}
		if tty {
			fmt.Fprint(w, "\033[H\033[2J")
		} else {
			fmt.Fprintln(w, "---")
		}
		PrintRelease(w, live, false)
		if live.State.Phase.Terminal() {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
		}
	}
}
