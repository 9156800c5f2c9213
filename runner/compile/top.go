package compile

import (
	"fmt"

	"github.com/statectl/statectl/runner/slstree"
	"github.com/statectl/statectl/runner/target"
	"gopkg.in/yaml.v3"
)

const topFile = "top.sls"

// matchKinds are the `- match:` values a top file may use.
var matchKinds = map[string]bool{"compound": true, "glob": true, "grain": true, "pillar": true, "list": true, "pcre": true}

type topEntry struct {
	sls  string
	line int
}

// topSLS renders top.sls and returns the SLS it assigns to the target in
// the run's saltenv, in top-file order, each once.
func topSLS(o *Options) ([]topEntry, error) {
	tree := slstree.Open(o.Root)
	defer tree.Close()
	if ok, err := tree.Exists(topFile); err != nil {
		return nil, Errors{{File: topFile, Msg: fmt.Sprintf("failed to read the top file: %v", err)}}
	} else if !ok {
		return nil, Errors{{File: topFile, Msg: fmt.Sprintf("no top file found in state root %s", o.Root),
			Hint: "create top.sls, or name the SLS to apply"}}
	}
	doc, err := tree.Render(o.Renderer, topFile, o.context(""))
	if err != nil {
		return nil, Errors{renderError(topFile, "", err)}
	}
	var errs errList
	bad := func(n *yaml.Node, format string, a ...any) {
		errs.add(&Error{File: topFile, Line: n.Line, Msg: "invalid top file: " + fmt.Sprintf(format, a...)})
	}
	root := deref(doc)
	if root != nil && root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = deref(root.Content[0])
	}
	if isNull(root) || root.Kind == yaml.DocumentNode {
		return nil, nil
	}
	if root.Kind != yaml.MappingNode {
		bad(root, "must be a mapping of saltenv to targets, got %s", kindName(root))
		return nil, errs.err()
	}
	env := o.saltenv()
	var out []topEntry
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		if k, _ := scalar(deref(root.Content[i])); k != env {
			continue
		}
		targets := deref(root.Content[i+1])
		if isNull(targets) {
			continue
		}
		if targets.Kind != yaml.MappingNode {
			bad(targets, "saltenv '%s' must map targets to lists of SLS, got %s", env, kindName(targets))
			continue
		}
		for j := 0; j+1 < len(targets.Content); j += 2 {
			tk, tv := deref(targets.Content[j]), deref(targets.Content[j+1])
			expr, ok := scalar(tk)
			if !ok {
				bad(tk, "target must be a string, got %s", kindName(tk))
				continue
			}
			if tv.Kind != yaml.SequenceNode {
				bad(tv, "target '%s' must have a list of SLS names, got %s", expr, kindName(tv))
				continue
			}
			kind := "compound"
			var entries []topEntry
			valid := true
			for _, it := range tv.Content {
				it = deref(it)
				if s, ok := scalar(it); ok {
					entries = append(entries, topEntry{sls: s, line: it.Line})
					continue
				}
				if it.Kind == yaml.MappingNode && len(it.Content) == 2 {
					if mk, _ := scalar(deref(it.Content[0])); mk == "match" {
						mv, _ := scalar(deref(it.Content[1]))
						if !matchKinds[mv] {
							bad(it, "unknown match type '%s' for target '%s' (use compound, glob, grain, pillar, list or pcre)", mv, expr)
							valid = false
						}
						kind = mv
						continue
					}
				}
				bad(it, "items of target '%s' must be SLS names or `- match: type`, got %s", expr, describeItem(it))
				valid = false
			}
			if !valid {
				continue
			}
			matched, err := target.Match(expr, kind, o.subject())
			if err != nil {
				errs.add(&Error{File: topFile, Line: tk.Line, Msg: fmt.Sprintf("invalid top file: %v (match: %s)", err, kind)})
				continue
			}
			if !matched {
				continue
			}
			for _, e := range entries {
				if !seen[e.sls] {
					seen[e.sls] = true
					out = append(out, e)
				}
			}
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return out, nil
}
