package console

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"time"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/control"
	"github.com/stagefront/stagefront/internal/release"
)

// listPage is how many items one list call asks for (CloudFront's maximum).
const listPage = 1000

// pendingApprovals lists the releases waiting for a person (the badge on
// every page). A failure to read shows no badge rather than no page.
func (c *Console) pendingApprovals(ctx context.Context) []pendingApproval {
	rels, err := c.opts.Releases.List(ctx)
	if err != nil {
		c.log.Warn("console: list releases", "err", err)
		return nil
	}
	return pendingOf(rels)
}

func pendingOf(rels []*release.Release) []pendingApproval {
	var out []pendingApproval
	for _, rel := range rels {
		if waitingForApproval(rel) {
			out = append(out, pendingApproval{Name: rel.Name, Primary: rel.PrimaryID, Step: rel.State.Step + 1, Since: rel.State.StepStarted})
		}
	}
	return out
}

func (c *Console) page(r *request, title string, body any) pageData {
	return pageData{Title: title, Session: r.session, Pending: c.pendingApprovals(r.Context()), Body: body, Flash: r.URL.Query().Get("done")}
}

// inventory lists every distribution and every policy and pairs them:
// a constant number of list calls, no read per distribution beyond what
// ListDistributions itself costs.
func (c *Console) inventory(ctx context.Context) ([]distRow, error) {
	var summaries []cf.DistributionSummary
	marker := ""
	for {
		list, err := c.opts.Distributions.ListDistributions(ctx, marker, listPage)
		if err != nil {
			return nil, err
		}
		summaries = append(summaries, list.Items...)
		if !cf.IsTrue(list.IsTruncated) || cf.Str(list.NextMarker) == "" {
			break
		}
		marker = cf.Str(list.NextMarker)
	}
	policies, err := c.policies(ctx)
	if err != nil {
		return nil, err
	}
	attached, err := c.opts.Distributions.PolicyAttachments(ctx)
	if err != nil {
		return nil, err
	}
	rels, err := c.opts.Releases.List(ctx)
	if err != nil {
		return nil, err
	}
	activeRelease := map[string]string{}
	for _, rel := range rels {
		if !rel.State.Phase.Terminal() {
			activeRelease[rel.PrimaryID] = rel.Name
		}
	}
	rows := make([]distRow, 0, len(summaries))
	byDomain := map[string]int{}
	for _, s := range summaries {
		row := distRow{ID: cf.Str(s.Id), Domain: cf.Str(s.DomainName), Enabled: cf.IsTrue(s.Enabled), Status: cf.Str(s.Status),
			Staging: cf.IsTrue(s.Staging), Comment: cf.Str(s.Comment), Release: activeRelease[cf.Str(s.Id)]}
		if s.Aliases != nil {
			row.Aliases = s.Aliases.Items
		}
		if !row.Staging {
			row.PolicyID = attached[row.ID]
			row.Policy = policies[row.PolicyID]
		}
		byDomain[strings.ToLower(row.Domain)] = len(rows)
		rows = append(rows, row)
	}
	for i := range rows {
		p := rows[i].Policy
		if p == nil || rows[i].Staging {
			continue
		}
		if j, ok := byDomain[strings.ToLower(p.StagingDomain)]; ok && rows[j].Staging {
			rows[i].Partner = rows[j].ID
			rows[j].Partner, rows[j].Policy, rows[j].PolicyID = rows[i].ID, p, p.ID
		}
	}
	return rows, nil
}

func (c *Console) policies(ctx context.Context) (map[string]*policyView, error) {
	out := map[string]*policyView{}
	marker := ""
	for {
		list, err := c.opts.Distributions.ListPolicies(ctx, marker, listPage)
		if err != nil {
			return nil, err
		}
		for _, item := range list.Items {
			if v := newPolicyView(item.ContinuousDeploymentPolicy); v != nil {
				out[v.ID] = v
			}
		}
		if cf.Str(list.NextMarker) == "" {
			return out, nil
		}
		marker = cf.Str(list.NextMarker)
	}
}

type overviewView struct {
	Distributions []distRow
	Releases      []releaseRow
}

func (c *Console) overview(w http.ResponseWriter, r *request) {
	rows, err := c.inventory(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rels, err := c.releaseRows(r.Context(), true)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r.Request, http.StatusOK, "overview", c.page(r, "Overview", overviewView{Distributions: rows, Releases: rels}))
}

func (c *Console) distributionsPage(w http.ResponseWriter, r *request) {
	rows, err := c.inventory(r.Context())
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r.Request, http.StatusOK, "distributions", c.page(r, "Distributions", rows))
}

type distributionView struct {
	Row           distRow
	Config        *cf.DistributionConfig
	ETag          string
	Origins       []originView
	Behaviors     []behaviorView
	Diff          []DiffLine
	DiffSummary   string
	Primary       bool // has a policy and a staging: show the pair and its traffic
	Generations   []release.Generation
	Releases      []releaseRow
	Invalidations []cf.InvalidationSummary
	CSRF          string
	// CompileError is why an edge does not serve the stored config.
	CompileError string
	// NeedTLS names the behaviors that ask for HTTPS while some edge has no
	// HTTPS listener (EdgesWithoutTLS of them).
	NeedTLS         []tlsNeed
	EdgesWithoutTLS int
}

func (c *Console) distributionPage(w http.ResponseWriter, r *request) {
	ctx := r.Context()
	id := r.PathValue("id")
	d, err := c.opts.Distributions.GetDistribution(ctx, id)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	dist := d.Distribution
	cfg := dist.DistributionConfig
	v := distributionView{Config: cfg, ETag: d.ETag, Origins: originViews(cfg), Behaviors: behaviorViews(cfg), CSRF: r.session.CSRF,
		CompileError: d.CompileError, EdgesWithoutTLS: d.EdgesWithoutTLS}
	if d.EdgesWithoutTLS > 0 && cf.IsTrue(cfg.Enabled) {
		v.NeedTLS = tlsNeeds(v.Behaviors)
	}
	v.Row = distRow{ID: cf.Str(dist.Id), Domain: cf.Str(dist.DomainName), Status: cf.Str(dist.Status),
		Enabled: cf.IsTrue(cfg.Enabled), Staging: cf.IsTrue(cfg.Staging), Comment: cf.Str(cfg.Comment),
		PolicyID: cf.Str(cfg.ContinuousDeploymentPolicyId)}
	if cfg.Aliases != nil {
		v.Row.Aliases = cfg.Aliases.Items
	}
	if v.Row.Staging {
		// Finding a staging's primary means reading the primaries.
		rows, err := c.inventory(ctx)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, row := range rows {
			if row.ID == v.Row.ID {
				v.Row = row
			}
		}
	} else if v.Row.PolicyID != "" {
		policies, err := c.policies(ctx)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		v.Row.Policy = policies[v.Row.PolicyID]
		if p := v.Row.Policy; p != nil && p.StagingDomain != "" {
			stagingID, err := c.distributionByDomain(ctx, p.StagingDomain)
			if err != nil {
				c.fail(w, r, err)
				return
			}
			if stagingID != "" {
				v.Row.Partner = stagingID
				staging, err := c.opts.Distributions.GetDistribution(ctx, stagingID)
				if err != nil {
					c.fail(w, r, err)
					return
				}
				// What a promotion changes: staging's config against the primary's.
				v.Diff, err = ConfigDiff(cfg, staging.Distribution.DistributionConfig, promotionKeeps)
				if err != nil {
					c.fail(w, r, err)
					return
				}
				v.DiffSummary = diffSummary(v.Diff)
				v.Primary = true
			}
		}
	}
	if !v.Row.Staging {
		gens, err := c.opts.Releases.History(ctx, v.Row.ID)
		if err != nil && !errors.Is(err, release.ErrNotFound) {
			c.fail(w, r, err)
			return
		}
		v.Generations = gens
		sort.Slice(v.Generations, func(i, j int) bool { return v.Generations[i].Number > v.Generations[j].Number })
		all, err := c.releaseRows(ctx, false)
		if err != nil {
			c.fail(w, r, err)
			return
		}
		for _, row := range all {
			if row.PrimaryID == v.Row.ID {
				v.Releases = append(v.Releases, row)
			}
		}
	}
	if invs, err := c.opts.Distributions.ListInvalidations(ctx, v.Row.ID, "", 10); err == nil && invs != nil {
		v.Invalidations = invs.Items
	}
	c.render(w, r.Request, http.StatusOK, "distribution", c.page(r, v.Row.ID, v))
}

// distributionByDomain finds a distribution id by its domain name.
func (c *Console) distributionByDomain(ctx context.Context, domain string) (string, error) {
	marker := ""
	for {
		list, err := c.opts.Distributions.ListDistributions(ctx, marker, listPage)
		if err != nil {
			return "", err
		}
		for _, s := range list.Items {
			if strings.EqualFold(cf.Str(s.DomainName), domain) {
				return cf.Str(s.Id), nil
			}
		}
		if !cf.IsTrue(list.IsTruncated) || cf.Str(list.NextMarker) == "" {
			return "", nil
		}
		marker = cf.Str(list.NextMarker)
	}
}

// releaseRow is one release in a list.
type releaseRow struct {
	Name      string
	PrimaryID string
	Domain    string
	Phase     string
	Terminal  bool
	Step      string
	Waiting   bool
	CreatedBy string
	Created   time.Time
	Updated   time.Time
}

func newReleaseRow(rel *release.Release) releaseRow {
	row := releaseRow{Name: rel.Name, PrimaryID: rel.PrimaryID, Domain: rel.Domain, Phase: string(rel.State.Phase),
		Terminal: rel.State.Phase.Terminal(), Waiting: waitingForApproval(rel), CreatedBy: rel.CreatedBy,
		Created: rel.Created, Updated: rel.Updated}
	if st := rel.State.Step; !row.Terminal && st >= 0 && st < len(rel.Spec.Steps) {
		row.Step = stepLabel(st, len(rel.Spec.Steps), rel.Spec.Steps[st])
	}
	return row
}

func stepLabel(i, n int, s release.Step) string {
	return "step " + itoa(i+1) + " of " + itoa(n) + ": " + string(s.Kind)
}

// releaseRows lists releases, active ones first, newest first.
func (c *Console) releaseRows(ctx context.Context, activeOnly bool) ([]releaseRow, error) {
	rels, err := c.opts.Releases.List(ctx)
	if err != nil {
		return nil, err
	}
	var out []releaseRow
	for _, rel := range rels {
		if activeOnly && rel.State.Phase.Terminal() {
			continue
		}
		out = append(out, newReleaseRow(rel))
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Terminal != out[j].Terminal {
			return !out[i].Terminal
		}
		return out[i].Created.After(out[j].Created)
	})
	return out, nil
}

func (c *Console) releasesPage(w http.ResponseWriter, r *request) {
	rows, err := c.releaseRows(r.Context(), false)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.render(w, r.Request, http.StatusOK, "releases", c.page(r, "Releases", rows))
}

type releaseView struct {
	Live        *release.Live
	Row         releaseRow
	Steps       []stepView
	Checks      []checkView
	Verdict     string
	Waiting     bool
	CanAbort    bool
	History     []historyEntry
	CSRF        string
	Description string
}

func (c *Console) releasePage(w http.ResponseWriter, r *request) {
	live, err := c.opts.Releases.Status(r.Context(), r.PathValue("name"))
	if err != nil {
		c.fail(w, r, err)
		return
	}
	rel := live.Release
	v := releaseView{Live: live, Row: newReleaseRow(rel), Waiting: waitingForApproval(rel), CSRF: r.session.CSRF,
		CanAbort: rel.State.Phase == release.PhaseProgressing, Description: live.PhaseDescription}
	for _, d := range rel.State.Decisions {
		if d.Verdict == release.VerdictAbort {
			v.CanAbort = false
		}
	}
	for i, s := range rel.Spec.Steps {
		sv := stepView{Number: i + 1, Kind: string(s.Kind), Summary: stepSummary(s), State: "pending"}
		switch {
		case i < rel.State.Step || rel.State.Phase == release.PhasePromoted:
			sv.State = "done"
		case i == rel.State.Step && !rel.State.Phase.Terminal():
			sv.State = "current"
			sv.TimeLeft = stepTimeLeft(s, rel.State.StepStarted, live.Now)
		}
		v.Steps = append(v.Steps, sv)
	}
	v.Checks = analysisChecks(rel.Spec.Analysis, live.Window)
	if live.Verdict != nil {
		v.Verdict = live.Verdict.Reason
	}
	v.History = releaseHistory(rel)
	sortHistory(v.History)
	c.render(w, r.Request, http.StatusOK, "release", c.page(r, "Release "+rel.Name, v))
}

// fail renders an error from a service call.
func (c *Console) fail(w http.ResponseWriter, r *request, err error) {
	status, msg := describeError(err)
	if status >= 500 {
		c.log.Error("console", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	c.errorPage(w, r.Request, r.session, status, msg)
}

// describeError turns a service error into a status and a sentence.
func describeError(err error) (int, string) {
	var apiErr *cf.Error
	switch {
	case errors.As(err, &apiErr):
		return apiErr.Status, apiErr.Code + ": " + apiErr.Message
	case control.IsUnavailable(err):
		return cf.ErrServiceUnavailable.Status, cf.ErrServiceUnavailable.Code + ": " + cf.ErrServiceUnavailable.Message
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, "the request was cancelled"
	}
	// The release controller's errors get the release API's statuses (a
	// release that is not there is 404, one that cannot take the action 409).
	if status, _ := release.ErrorStatus(err); status < http.StatusInternalServerError {
		return status, err.Error()
	}
	return http.StatusInternalServerError, "Something went wrong: " + err.Error()
}
