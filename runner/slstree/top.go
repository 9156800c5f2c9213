package slstree

import (
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/statectl/statectl/runner/target"
)

// TopEntry is one SLS a top file assigns to the target.
type TopEntry struct {
	SLS  string // as written (callers normalise and validate it)
	Line int
	// IgnoreMissing: every listing of the SLS said `- ignore_missing: true`.
	IgnoreMissing bool
}

// TopError is one problem of a top file, at a line of the rendered file.
type TopError struct {
	Line int
	Msg  string
}

func (e *TopError) Error() string { return e.Msg }

// matchKinds are the `- match:` values a top file may use (target.Compile's).
var matchKinds = map[string]bool{"compound": true, "glob": true, "grain": true, "grain_pcre": true, "ipcidr": true,
	"list": true, "pcre": true, "pillar": true, "pillar_pcre": true}

// Top reads a rendered top file, the same way for the state tree and the
// pillar tree, and returns the SLS that the targets of environment env
// matching subj assign, in top-file order, each once (Salt keeps the first
// position of an SLS listed twice; it may be ignored when missing only if
// every listing says so). Every problem is returned, not only the first.
//
// Environments: statectl serves one environment per run (base), as a Salt
// minion with `saltenv: base` and `pillarenv: base` does, so entries of any
// other environment are skipped, as Salt's top_matches skips them when the
// environment is pinned. They are still checked for structure.
//
// A target's list holds SLS names plus the options `- match: type`
// (compound when absent) and `- ignore_missing: true`, which apply to the
// whole list.
func Top(doc *yaml.Node, env string, subj *target.Subject) ([]TopEntry, []*TopError) {
	var errs []*TopError
	bad := func(n *yaml.Node, format string, a ...any) {
		errs = append(errs, &TopError{Line: n.Line, Msg: fmt.Sprintf(format, a...)})
	}
	root := Deref(doc)
	if root != nil && root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = Deref(root.Content[0])
	}
	if IsNull(root) || root.Kind == 0 || root.Kind == yaml.DocumentNode {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		bad(root, "must be a mapping of saltenv to targets, got %s", KindName(root))
		return nil, errs
	}
	var out []TopEntry
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		e, _ := Scalar(Deref(root.Content[i]))
		targets := Deref(root.Content[i+1])
		if IsNull(targets) {
			continue
		}
		if targets.Kind != yaml.MappingNode {
			bad(targets, "saltenv '%s' must map targets to lists of SLS, got %s", e, KindName(targets))
			continue
		}
		for j := 0; j+1 < len(targets.Content); j += 2 {
			tk, tv := Deref(targets.Content[j]), Deref(targets.Content[j+1])
			expr, ok := Scalar(tk)
			if !ok {
				bad(tk, "target must be a string, got %s", KindName(tk))
				continue
			}
			if tv.Kind != yaml.SequenceNode {
				bad(tv, "target '%s' must have a list of SLS names, got %s", expr, KindName(tv))
				continue
			}
			kind := "compound"
			var entries []TopEntry
			ignoreMissing := false
			valid := true
			for _, it := range tv.Content {
				it = Deref(it)
				if s, ok := Scalar(it); ok {
					entries = append(entries, TopEntry{SLS: s, Line: it.Line})
					continue
				}
				if it.Kind != yaml.MappingNode || len(it.Content) != 2 {
					bad(it, "items of target '%s' must be SLS names, `- match: type` or `- ignore_missing: true`, got %s", expr, DescribeItem(it))
					valid = false
					continue
				}
				k, v := Deref(it.Content[0]), Deref(it.Content[1])
				switch key, _ := Scalar(k); key {
				case "match":
					mv, _ := Scalar(v)
					if !matchKinds[mv] {
						bad(it, "unknown match type '%s' for target '%s' (use compound, glob, grain, pillar, list or pcre)", mv, expr)
						valid = false
					}
					kind = mv
				case "ignore_missing":
					if err := v.Decode(&ignoreMissing); err != nil {
						bad(v, "target '%s': ignore_missing must be true or false", expr)
						valid = false
					}
				default:
					bad(k, "target '%s': unknown option %q (known: ignore_missing, match)", expr, key)
					valid = false
				}
			}
			if !valid || e != env {
				continue
			}
			m, err := target.Compile(expr, kind)
			if err != nil {
				bad(tk, "%v (match: %s)", err, kind)
				continue
			}
			if !m.Match(subj) {
				continue
			}
			for _, en := range entries {
				en.IgnoreMissing = ignoreMissing
				if k, dup := seen[en.SLS]; dup {
					out[k].IgnoreMissing = out[k].IgnoreMissing && en.IgnoreMissing
					continue
				}
				seen[en.SLS] = len(out)
				out = append(out, en)
			}
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return out, nil
}
