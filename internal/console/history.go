package console

import (
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/release"
)

// historyEntry is one line of the audit history: who did what, when, with
// their comment. Actor "stagefront" is the release controller itself.
type historyEntry struct {
	At           time.Time
	Who          string
	What         string
	Comment      string
	Release      string
	Distribution string
}

// controllerActor names the release controller in the history.
const controllerActor = "stagefront"

// releaseHistory is a release's history in the order it happened: its
// start, every person's decision with its comment, and what the controller
// did. The controller logs each decision as an event; that event is shown
// as the decision itself, with its author and comment.
func releaseHistory(rel *release.Release) []historyEntry {
	base := historyEntry{Release: rel.Name, Distribution: rel.PrimaryID}
	decisions := rel.State.Decisions
	decision := func(d release.Decision) historyEntry {
		e := base
		e.At, e.Who, e.Comment = d.At, d.By, d.Comment
		switch d.Verdict {
		case release.VerdictApproved:
			e.What = fmt.Sprintf("approved step %d", d.Step+1)
		case release.VerdictRejected:
			e.What = fmt.Sprintf("rejected step %d", d.Step+1)
		case release.VerdictAbort:
			e.What = "aborted the release"
		default:
			e.What = d.Verdict
		}
		return e
	}
	start := base
	start.At, start.Who, start.What = rel.Created, rel.CreatedBy, "started the release"
	out := []historyEntry{start}
	for _, ev := range rel.State.Events {
		switch {
		case strings.HasPrefix(ev.Message, "started by "):
		case isDecisionEvent(ev.Message) && len(decisions) > 0:
			out = append(out, decision(decisions[0]))
			decisions = decisions[1:]
		default:
			e := base
			e.At, e.Who, e.What = ev.At, controllerActor, ev.Message
			out = append(out, e)
		}
	}
	// The event log is bounded; decisions are not.
	for _, d := range decisions {
		out = append(out, decision(d))
	}
	return out
}

func isDecisionEvent(msg string) bool {
	for _, v := range []string{release.VerdictApproved, release.VerdictRejected, release.VerdictAbort} {
		if strings.HasPrefix(msg, v+" by ") {
			return true
		}
	}
	return false
}

// generationHistory is a primary's promotions and rollbacks.
func generationHistory(gens []release.Generation) []historyEntry {
	var out []historyEntry
	for _, g := range gens {
		e := historyEntry{At: g.At, Distribution: g.Primary, Release: g.Release, Who: g.By}
		switch g.Kind {
		case "promote":
			e.What = fmt.Sprintf("promoted release %s as generation %d", g.Release, g.Number)
			var approvers []string
			for _, a := range g.ApprovedBy {
				approvers = append(approvers, a.By)
			}
			if len(approvers) > 0 {
				e.Comment = "approved by " + strings.Join(approvers, ", ")
			}
		case "rollback":
			e.What = fmt.Sprintf("rolled back to generation %d (now generation %d)", g.From, g.Number)
		case "initial":
			e.What = "generation 0: the config before the first release"
			e.Who = controllerActor
		default:
			e.What = g.Kind + " " + strconv.Itoa(g.Number)
		}
		if e.Who == "" {
			e.Who = controllerActor
		}
		out = append(out, e)
	}
	return out
}

// sortHistory puts the newest first; entries of the same instant keep
// the reverse of the order they happened in.
// invalidationHistory is who invalidated which paths. Invalidations made
// before identities were recorded show no name.
func invalidationHistory(invs []control.InvalidationRecord) []historyEntry {
	out := make([]historyEntry, 0, len(invs))
	for _, inv := range invs {
		who := inv.CreatedBy
		if who == "" {
			who = "(not recorded)"
		}
		out = append(out, historyEntry{At: inv.Created, Who: who, Distribution: inv.DistributionID,
			What: fmt.Sprintf("invalidated %s (%s)", strings.Join(inv.Paths, " "), inv.ID)})
	}
	return out
}

func sortHistory(h []historyEntry) {
	slices.Reverse(h)
	sort.SliceStable(h, func(i, j int) bool { return h[i].At.After(h[j].At) })
}

type historyView struct {
	Entries      []historyEntry
	Distribution string
	Release      string
}

// historyPage is the audit history, of everything or filtered by
// ?distribution= or ?release=.
func (c *Console) historyPage(w http.ResponseWriter, r *request) {
	ctx := r.Context()
	v := historyView{Distribution: r.URL.Query().Get("distribution"), Release: r.URL.Query().Get("release")}
	rels, err := c.opts.Releases.List(ctx)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	primaries := map[string]bool{}
	for _, rel := range rels {
		if v.Release != "" && rel.Name != v.Release || v.Distribution != "" && rel.PrimaryID != v.Distribution {
			continue
		}
		v.Entries = append(v.Entries, releaseHistory(rel)...)
		primaries[rel.PrimaryID] = true
	}
	if v.Distribution != "" {
		primaries[v.Distribution] = true
	}
	for primary := range primaries {
		gens, err := c.opts.Releases.History(ctx, primary)
		if err != nil {
			continue // a primary deleted since keeps its releases' history
		}
		for _, e := range generationHistory(gens) {
			if v.Release == "" || e.Release == v.Release {
				v.Entries = append(v.Entries, e)
			}
		}
	}
	if v.Release == "" {
		invs, err := c.opts.Distributions.InvalidationHistory(ctx, v.Distribution)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		v.Entries = append(v.Entries, invalidationHistory(invs)...)
	}
	sortHistory(v.Entries)
	title := "History"
	switch {
	case v.Release != "":
		title += " of release " + v.Release
	case v.Distribution != "":
		title += " of " + v.Distribution
	}
	c.render(w, r.Request, http.StatusOK, "history", c.page(r, title, v))
}

func itoa(i int) string { return strconv.Itoa(i) }
