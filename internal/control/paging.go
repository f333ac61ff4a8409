package control

import (
	"sort"

	cf "github.com/stagefront/stagefront/internal/cloudfront"
)

// The List operations page with Marker and MaxItems: a page holds at most
// MaxItems items after the one whose id is Marker, and NextMarker is the
// id of its last item when more follow.

// page pages a list sorted by id. When no item has the marker the page
// starts where it would have been (found is false), so a listing resumes
// past an item deleted between two pages.
func page[T any](items []T, id func(T) string, marker string, maxItems int) (out []T, next string, found bool) {
	start := 0
	found = true
	if marker != "" {
		start = sort.Search(len(items), func(i int) bool { return id(items[i]) > marker })
		found = start > 0 && id(items[start-1]) == marker
	}
	return window(items, start, maxItems), nextMarker(items, id, start, maxItems), found
}

// pageAfter pages a list in any order (managed policies first, then
// custom ones): a marker no item has yields an empty page. next is nil on
// the last page.
func pageAfter[T any](items []T, id func(T) string, marker string, maxItems int) (out []T, next *string) {
	start := 0
	if marker != "" {
		start = len(items)
		for i, it := range items {
			if id(it) == marker {
				start = i + 1
				break
			}
		}
	}
	if n := nextMarker(items, id, start, maxItems); n != "" {
		next = cf.String(n)
	}
	return window(items, start, maxItems), next
}

func window[T any](items []T, start, maxItems int) []T {
	return items[start:min(start+max(maxItems, 0), len(items))]
}

func nextMarker[T any](items []T, id func(T) string, start, maxItems int) string {
	end := min(start+max(maxItems, 0), len(items))
	if end < len(items) && end > start {
		return id(items[end-1])
	}
	return ""
}
