package console

import (
	"fmt"
	"html/template"
	"io/fs"
	"path"
	"strings"
	"time"
)

// parsePages parses each page with the layout and the shared partials into
// its own template set, so that every page can define "content".
func parsePages(now func() time.Time) (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04:05 UTC")
		},
		"ago":   func(t time.Time) string { return since(now(), t) },
		"join":  strings.Join,
		"pct":   func(f float64) string { return pct(f) },
		"lower": strings.ToLower,
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("console templates: %w", err)
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/partials.html", f)
		if err != nil {
			return nil, fmt.Errorf("console template %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}
