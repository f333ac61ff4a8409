package console

import (
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
	"github.com/stagefront/stagefront/internal/release"
)

// maxCommentLen bounds a decision's comment.
const maxCommentLen = 2000

// decide records Approve, Reject or Abort through the release controller,
// with the signed-in principal and the comment, like `stagefront release
// approve` does through the release API.
func (c *Console) decide(w http.ResponseWriter, r *request) {
	name := r.PathValue("name")
	verdict, ok := release.VerdictFor(r.PostForm.Get("verdict"))
	if !ok {
		c.errorPage(w, r.Request, r.session, http.StatusBadRequest, "Choose Approve, Reject or Abort.")
		return
	}
	comment := strings.TrimSpace(r.PostForm.Get("comment"))
	if len(comment) > maxCommentLen {
		c.errorPage(w, r.Request, r.session, http.StatusBadRequest, fmt.Sprintf("The comment is longer than %d characters.", maxCommentLen))
		return
	}
	if _, err := c.opts.Releases.Decide(r.Context(), name, verdict, r.session.Principal, comment); err != nil {
		c.fail(w, r, err)
		return
	}
	c.log.Info("console: decision", "release", name, "verdict", verdict, "principal", r.session.Principal)
	http.Redirect(w, r.Request, "/console/releases/"+url.PathEscape(name)+"?done="+url.QueryEscape(verdict), http.StatusSeeOther)
}

// maxInvalidationPaths is CloudFront's limit of paths in one batch.
const maxInvalidationPaths = 3000

// invalidate creates an invalidation of the paths typed one per line.
func (c *Console) invalidate(w http.ResponseWriter, r *request) {
	id := r.PathValue("id")
	var paths []string
	for _, line := range strings.Split(r.PostForm.Get("paths"), "\n") {
		if p := strings.TrimSpace(line); p != "" {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 || len(paths) > maxInvalidationPaths {
		c.errorPage(w, r.Request, r.session, http.StatusBadRequest, fmt.Sprintf("Type between 1 and %d paths, one per line, each starting with /.", maxInvalidationPaths))
		return
	}
	batch := &cf.InvalidationBatch{
		Paths:           &cf.Paths{Quantity: cf.Int32(int32(len(paths))), Items: paths},
		CallerReference: cf.String("console-" + r.session.Principal + "-" + strconv.FormatInt(c.opts.Clock().UnixNano(), 36)),
	}
	inv, err := c.opts.Distributions.CreateInvalidation(r.Context(), id, batch)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log.Info("console: invalidation", "distribution", id, "invalidation", cf.Str(inv.Id), "paths", len(paths), "principal", r.session.Principal)
	http.Redirect(w, r.Request, "/console/distributions/"+url.PathEscape(id)+"?done=invalidation+"+url.QueryEscape(cf.Str(inv.Id)), http.StatusSeeOther)
}

type rollbackView struct {
	Primary     string
	Target      release.Generation
	Current     release.Generation
	Diff        []DiffLine
	DiffSummary string
	CSRF        string
}

// rollbackPage shows what rolling back to ?to=N changes before asking.
func (c *Console) rollbackPage(w http.ResponseWriter, r *request) {
	v, ok := c.rollbackTarget(w, r, r.URL.Query().Get("to"))
	if !ok {
		return
	}
	c.render(w, r.Request, http.StatusOK, "rollback", c.page(r, "Roll back "+v.Primary, v))
}

func (c *Console) rollbackTarget(w http.ResponseWriter, r *request, to string) (rollbackView, bool) {
	primary := r.PathValue("id")
	n, err := strconv.Atoi(to)
	if err != nil || n < 0 {
		c.errorPage(w, r.Request, r.session, http.StatusBadRequest, "Choose a generation to roll back to.")
		return rollbackView{}, false
	}
	gens, err := c.opts.Releases.History(r.Context(), primary)
	if err != nil {
		c.fail(w, r, err)
		return rollbackView{}, false
	}
	sort.Slice(gens, func(i, j int) bool { return gens[i].Number < gens[j].Number })
	v := rollbackView{Primary: primary, CSRF: r.session.CSRF}
	found := false
	for _, g := range gens {
		if g.Number == n {
			v.Target, found = g, true
		}
	}
	if !found || len(gens) == 0 {
		c.errorPage(w, r.Request, r.session, http.StatusNotFound, fmt.Sprintf("%s has no generation %d.", primary, n))
		return rollbackView{}, false
	}
	v.Current = gens[len(gens)-1]
	// Both configs are stored in the same form, so they compare member by member.
	v.Diff, err = ConfigDiff(v.Current.Config, v.Target.Config, promotionKeeps)
	if err != nil {
		c.fail(w, r, err)
		return rollbackView{}, false
	}
	v.DiffSummary = diffSummary(v.Diff)
	return v, true
}

// rollback puts a generation back through the release controller.
func (c *Console) rollback(w http.ResponseWriter, r *request) {
	v, ok := c.rollbackTarget(w, r, r.PostForm.Get("to"))
	if !ok {
		return
	}
	gen, err := c.opts.Releases.Rollback(r.Context(), v.Primary, v.Target.Number, r.session.Principal)
	if err != nil {
		c.fail(w, r, err)
		return
	}
	c.log.Info("console: rollback", "distribution", v.Primary, "to", v.Target.Number, "generation", gen.Number, "principal", r.session.Principal)
	http.Redirect(w, r.Request, "/console/distributions/"+url.PathEscape(v.Primary)+"?done="+url.QueryEscape(fmt.Sprintf("rolled back: generation %d", gen.Number)), http.StatusSeeOther)
}

// since formats how long ago t was.
func since(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	d := now.Sub(t).Round(time.Second)
	if d < time.Second {
		return "just now"
	}
	return d.String() + " ago"
}
