package report

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// nested renders v the way Salt's "nested" outputter does: mappings as a
// "----------" line followed by sorted "key:" lines with values indented by
// four, lists as "- item" (or "|_" for nested containers), None/True/False
// for null and booleans.
func nested(b *strings.Builder, v any, indent int, prefix string) {
	pad := strings.Repeat(" ", indent)
	switch t := v.(type) {
	case map[string]any:
		if indent > 0 {
			b.WriteString(pad + prefix + "----------\n")
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			b.WriteString(pad + k + ":\n")
			nested(b, t[k], indent+4, "")
		}
	case []any:
		for _, e := range t {
			switch e.(type) {
			case map[string]any, []any:
				b.WriteString(pad + "|_\n")
				p := "- "
				if _, ok := e.(map[string]any); ok {
					p = ""
				}
				nested(b, e, indent+2, p)
			default:
				nested(b, e, indent, "- ")
			}
		}
	default:
		for _, line := range strings.Split(scalar(t), "\n") {
			b.WriteString(pad + prefix + line + "\n")
		}
	}
}

// scalar prints a leaf value as Salt (Python) does.
func scalar(v any) string {
	switch t := v.(type) {
	case nil:
		return "None"
	case bool:
		if t {
			return "True"
		}
		return "False"
	case string:
		return t
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	default:
		return fmt.Sprint(t)
	}
}
