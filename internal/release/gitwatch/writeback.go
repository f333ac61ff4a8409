package gitwatch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront"
	"github.com/aws/aws-sdk-go-v2/service/cloudfront/types"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing/object"

	"github.com/stagefront/stagefront/internal/release"
)

// writeBack commits the primary's live DistributionConfig to the branch.
// Running it twice is harmless: when the branch already holds that exact
// content (say, the watcher crashed after committing), nothing is committed.
func (w *Watcher) writeBack(ctx context.Context, repo *git.Repository, rel *release.Release, specCommit string) error {
	out, err := w.opts.Configs.GetDistributionConfig(ctx, &cloudfront.GetDistributionConfigInput{Id: aws.String(rel.PrimaryID)})
	if err != nil {
		return fmt.Errorf("read the live config of %s: %w", rel.PrimaryID, err)
	}
	content, err := RenderConfig(out.DistributionConfig)
	if err != nil {
		return err
	}
	message := fmt.Sprintf("%s%s (generation %d)\n\nPrimary: %s\nSpec-Commit: %s\n",
		writeBackPrefix, rel.Name, rel.State.Generation, rel.PrimaryID, specCommit)
	sig := object.Signature{Name: authorName, Email: authorEmail, When: w.opts.Now()}
	h, err := commitFile(repo, w.branch, w.opts.WriteBack, content, message, sig)
	if err != nil {
		return err
	}
	// Also when nothing was committed: a crash may have come between the
	// commit and the worktree update.
	if err := syncWorktree(repo, w.branch, w.opts.WriteBack, content); err != nil {
		return err
	}
	log := w.log.With("release", rel.Name, "primaryId", rel.PrimaryID, "generation", rel.State.Generation, "file", w.opts.WriteBack)
	if h.IsZero() {
		log.Info("watch-git: promoted; the branch already holds the live config")
		return nil
	}
	log.Info("watch-git: promoted; committed the live config to the branch", "writeBackCommit", short(h))
	return nil
}

// RenderConfig is the write-back file: the DistributionConfig as the aws
// CLI prints it (members named as in the API, absent ones left out), keys
// sorted and indented, so that the same config always gives the same bytes.
// `staging: config: FILE` in a spec reads it back.
func RenderConfig(cfg *types.DistributionConfig) ([]byte, error) {
	if cfg == nil {
		return nil, errors.New("the API returned no DistributionConfig")
	}
	raw, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("encode distribution config: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("encode distribution config: %w", err)
	}
	out, err := json.MarshalIndent(dropNulls(doc), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode distribution config: %w", err)
	}
	return append(out, '\n'), nil
}

func dropNulls(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if x == nil {
				delete(v, k)
				continue
			}
			v[k] = dropNulls(x)
		}
	case []any:
		for i := range v {
			v[i] = dropNulls(v[i])
		}
	}
	return v
}
