package report

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/statectl/statectl/runner/secret"
	"github.com/statectl/statectl/runner/state"
)

// WriteMarkdown writes a compact summary for a pull-request comment: per
// target one headline, then a table of the states that changed, would
// change or failed, with old -> new values (secrets masked). Unchanged
// states are only counted.
func WriteMarkdown(w io.Writer, runs []*Run) error {
	var b strings.Builder
	for i, r := range runs {
		if i > 0 {
			b.WriteString("\n")
		}
		markdownRun(&b, r)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func markdownRun(b *strings.Builder, r *Run) {
	c := Count(r)
	verb, n := "changed", c.Changed
	if r.Test {
		verb, n = "would change", c.WouldChange
	}
	fmt.Fprintf(b, "### %s: %d %s, %d failed, %d states", mdText(r.Target), n, verb, c.Failed, c.Total)
	if r.Test {
		b.WriteString(" (test)")
	}
	b.WriteString("\n\n")
	if r.Failhard || r.Interrupted {
		why := "stopped by failhard"
		if r.Interrupted {
			why = "interrupted"
		}
		fmt.Fprintf(b, "**%d states not run (%s).**\n\n", r.NotRun, why)
	}
	var rows []*state.Result
	for _, res := range r.Results {
		if res.Changed() || res.Failed() || res.Result == nil {
			rows = append(rows, res)
		}
	}
	if len(rows) == 0 {
		b.WriteString("No changes.\n")
		return
	}
	b.WriteString("| State | Function | Result | Changes |\n| --- | --- | --- | --- |\n")
	for _, res := range rows {
		lines := changeLines(res.Changes)
		if res.Failed() || len(lines) == 0 {
			if cm := firstLine(res.Comment, 200); cm != "" {
				lines = append(lines, mdText(cm))
			}
		}
		fmt.Fprintf(b, "| `%s` | %s.%s | %s | %s |\n", mdCode(res.ID), res.Module, res.Function,
			strings.ReplaceAll(Status(res), "_", " "), strings.Join(lines, "<br>"))
	}
}

// changeLines flattens Salt changes into "path: old -> new" lines, in key
// order, masking the values of keys that name a credential.
func changeLines(changes map[string]any) []string {
	if len(changes) == 0 {
		return nil
	}
	var out []string
	flattenChange(&out, "", Normalize(changes), false)
	return out
}

func flattenChange(out *[]string, path string, v any, masked bool) {
	m, ok := v.(map[string]any)
	if !ok {
		*out = append(*out, fmt.Sprintf("`%s`: %s", mdCode(path), mdValue(v, masked)))
		return
	}
	old, hasOld := m["old"]
	nw, hasNew := m["new"]
	if (hasOld || hasNew) && len(m) <= 2 && (len(m) == 2 || hasOld != hasNew) {
		om, oOK := old.(map[string]any)
		nm, nOK := nw.(map[string]any)
		if (oOK || old == nil) && (nOK || nw == nil) && (oOK || nOK) {
			// {old: {k: a}, new: {k: b}}: one line per key.
			for _, k := range unionKeys(om, nm) {
				*out = append(*out, fmt.Sprintf("`%s`: %s → %s", mdCode(join(path, k)),
					mdValue(om[k], masked || secret.Key(k)), mdValue(nm[k], masked || secret.Key(k))))
			}
			return
		}
		*out = append(*out, fmt.Sprintf("`%s`: %s → %s", mdCode(path), mdValue(old, masked), mdValue(nw, masked)))
		return
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		flattenChange(out, join(path, k), m[k], masked || secret.Key(k))
	}
}

func unionKeys(a, b map[string]any) []string {
	set := map[string]bool{}
	for k := range a {
		set[k] = true
	}
	for k := range b {
		set[k] = true
	}
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

// mdValue renders a value as inline code: JSON, so strings are quoted and
// null is visible.
func mdValue(v any, masked bool) string {
	if masked && v != nil {
		return "`" + secret.Mask + "`"
	}
	data, err := json.Marshal(v)
	if err != nil {
		data = []byte(fmt.Sprint(v))
	}
	return "`" + mdCode(string(data)) + "`"
}

// mdCode makes s safe inside a table cell's inline code.
func mdCode(s string) string {
	s = strings.ReplaceAll(s, "`", "'")
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}

// mdText escapes s for Markdown text in a table cell or heading.
func mdText(s string) string {
	r := strings.NewReplacer("|", `\|`, "*", `\*`, "_", `\_`, "`", `\`+"`", "<", "&lt;", ">", "&gt;", "\n", " ")
	return r.Replace(s)
}

func firstLine(s string, max int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i] + " …"
	}
	if len(s) > max {
		s = s[:max] + "…"
	}
	return s
}
