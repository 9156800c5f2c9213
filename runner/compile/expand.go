package compile

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/statectl/statectl/runner/render"
	"github.com/statectl/statectl/runner/slstree"
	"github.com/statectl/statectl/runner/state"
	"gopkg.in/yaml.v3"
)

// node is one expanded state while compiling.
type node struct {
	st      *state.State
	reqs    []reqRef
	argLine map[string]int    // line of each argument, for errors
	argFile map[string]string // file of each argument (extend may set it elsewhere)
	fnLine  int
	seq     int // declaration order
	deps    map[state.Edge]bool
}

// Keywords that are not function arguments (requisites are in reqKeywords).
const (
	kwName     = "name"
	kwNames    = "names"
	kwOrder    = "order"
	kwFailhard = "failhard"
	kwTimeout  = "timeout"
)

// saltOnly are Salt keywords statectl does not implement; naming them in
// the error beats a plain "unknown argument".
var saltOnly = map[string]bool{
	"listen": true, "listen_in": true, "onlyif": true, "unless": true, "creates": true,
	"check_cmd": true, "retry": true, "parallel": true, "reload_modules": true,
	"reload_grains": true, "reload_pillar": true, "runas": true, "fire_event": true,
	"require_any": true, "watch_any": true, "onchanges_any": true, "onfail_any": true,
	"onfail_all": true, "onfail_stop": true, "prerequired": true, "umask": true, "saltenv": true,
}

// applyExtends merges every extend: block into the ID it names, in file
// order: requisites append, other arguments replace, a function replaces.
func (c *compiler) applyExtends() {
	for _, f := range c.fileOrder {
		for _, ext := range f.extends {
			tgt, ok := c.ids[ext.id]
			if !ok {
				e := &Error{File: ext.file, Line: ext.line, SLS: f.name, ID: ext.id, Msg: fmt.Sprintf(
					"Cannot extend ID '%s' in '%s:%s'. It is not part of the high state.", ext.id, c.env, f.name)}
				e.Hint = "include the SLS that declares '" + ext.id + "'"
				if dym := didYouMean(ext.id, c.idNames()); dym != "" {
					e.Hint = dym + " Otherwise " + e.Hint
				}
				c.errs.add(e)
				continue
			}
			for _, ed := range ext.decls {
				c.extendDecl(tgt, ed)
			}
		}
	}
}

func (c *compiler) idNames() []string {
	out := make([]string, 0, len(c.ids))
	for id := range c.ids {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (c *compiler) extendDecl(tgt *idDecl, ed *decl) {
	var dc *decl
	for _, d := range tgt.decls {
		if d.module == ed.module {
			dc = d
		}
	}
	if dc == nil {
		if ed.function == "" {
			c.errs.add(&Error{File: ed.file, Line: ed.line, ID: tgt.id, Msg: fmt.Sprintf(
				"extend of state '%s' adds module '%s' without a function", tgt.id, ed.module)})
			return
		}
		tgt.decls = append(tgt.decls, ed)
		return
	}
	if ed.function != "" {
		dc.function, dc.fnLine = ed.function, ed.fnLine
	}
	dc.items = mergeItems(dc.items, ed.items)
	dc.reqs = append(dc.reqs, ed.reqs...)
}

// mergeItems replaces items of base by key with those of over (keeping
// their position), appending new ones. name and names replace each other,
// as in Salt.
func mergeItems(base, over []item) []item {
	out := append([]item(nil), base...)
	for _, o := range over {
		replaced := false
		for i := range out {
			k := out[i].key
			if k == o.key || (k == kwName && o.key == kwNames) || (k == kwNames && o.key == kwName) {
				out[i] = o
				replaced = true
				break
			}
		}
		if !replaced {
			out = append(out, o)
		}
	}
	return out
}

// applyExcludes drops excluded IDs and SLS (Salt's fnmatch patterns).
func (c *compiler) applyExcludes() {
	for _, f := range c.fileOrder {
		for _, ex := range f.excludes {
			for _, g := range c.fileOrder {
				for _, d := range g.ids {
					if (ex.id != "" && d.id == ex.id) || (ex.sls != "" && slstree.Match(ex.sls, d.sls)) {
						d.excluded = true
					}
				}
			}
		}
	}
}

// expand turns each module block into states, one per entry of names:.
func (c *compiler) expand() {
	for _, f := range c.fileOrder {
		for _, d := range f.ids {
			if d.excluded || c.ids[d.id] != d {
				continue
			}
			for _, dc := range d.decls {
				c.expandDecl(d, dc)
			}
		}
	}
}

type nameEntry struct {
	name  string
	items []item
	reqs  []reqRef
}

func (c *compiler) expandDecl(d *idDecl, dc *decl) {
	errAt := func(file string, line int, arg, format string, a ...any) {
		c.errs.add(&Error{File: file, Line: line, SLS: d.sls, ID: d.id, Arg: arg,
			Msg: fmt.Sprintf("state '%s' in SLS '%s': ", d.id, d.sls) + fmt.Sprintf(format, a...)})
	}
	var base []item
	var namesItem *item
	hasName := false
	for i := range dc.items {
		switch dc.items[i].key {
		case kwNames:
			namesItem = &dc.items[i]
			continue
		case kwName:
			hasName = true
		}
		base = append(base, dc.items[i])
	}
	entries := []nameEntry{{name: ""}}
	if namesItem != nil {
		if hasName {
			errAt(namesItem.file, namesItem.line, kwNames, "both name and names are given; use one")
			return
		}
		entries = c.parseNames(d, dc, namesItem, errAt)
	}
	for _, ne := range entries {
		items := base
		if ne.items != nil {
			items = mergeItems(base, ne.items)
		}
		st := &state.State{ID: d.id, Name: d.id, SLS: d.sls, Module: dc.module, Function: dc.function,
			Args: map[string]any{}, File: d.file, Line: d.line}
		if ne.name != "" {
			st.Name = ne.name
		}
		n := &node{st: st, argLine: map[string]int{}, argFile: map[string]string{}, fnLine: dc.fnLine, seq: len(c.nodes)}
		n.reqs = append(append(n.reqs, dc.reqs...), ne.reqs...)
		ok := true
		for _, it := range items {
			if !c.applyItem(n, it, errAt) {
				ok = false
			}
		}
		st.Args[kwName] = st.Name
		st.ArgOrder = append([]string{kwName}, st.ArgOrder...)
		if ok {
			c.nodes = append(c.nodes, n)
		}
	}
}

// applyItem sets one argument or keyword on a state.
func (c *compiler) applyItem(n *node, it item, errAt func(string, int, string, string, ...any)) bool {
	st := n.st
	switch it.key {
	case kwName:
		s, ok := scalar(it.val)
		if !ok {
			errAt(it.file, it.line, kwName, "name must be a string, got %s", kindName(it.val))
			return false
		}
		st.Name = s
	case kwOrder:
		s, ok := scalar(it.val)
		switch {
		case ok && s == "first":
			st.OrderFirst = true
		case ok && s == "last":
			st.OrderLast = true
		default:
			v, err := strconv.Atoi(s)
			if !ok || err != nil || v < 1 {
				errAt(it.file, it.line, kwOrder, "order must be first, last or a positive integer")
				return false
			}
			st.Order = v
		}
	case kwFailhard:
		v, err := decodeValue(it.val)
		b, ok := v.(bool)
		if err != nil || !ok {
			errAt(it.file, it.line, kwFailhard, "failhard must be true or false")
			return false
		}
		st.Failhard = b
	case kwTimeout:
		v, err := decodeValue(it.val)
		secs, ok := toFloat(v)
		if err != nil || !ok || secs <= 0 || secs > math.MaxInt64/float64(time.Second) {
			errAt(it.file, it.line, kwTimeout, "timeout must be a positive number of seconds")
			return false
		}
		st.Timeout = time.Duration(secs * float64(time.Second))
	default:
		v, err := decodeValue(it.val)
		if err != nil {
			// The decoder's message may quote the value, which may be a secret.
			errAt(it.file, it.line, it.key, "argument '%s' has a value that cannot be decoded (check its YAML tag)", it.key)
			return false
		}
		st.Args[it.key] = v
		st.ArgOrder = append(st.ArgOrder, it.key)
		n.argLine[it.key] = it.line
		n.argFile[it.key] = it.file
	}
	return true
}

func toFloat(v any) (float64, bool) {
	switch x := v.(type) {
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	case float64:
		return x, true
	}
	return 0, false
}

// parseNames reads `names:`: plain names, or `- name: [{arg: v}, ...]`
// (also `- name: {arg: v}`) to override arguments for that name.
func (c *compiler) parseNames(d *idDecl, dc *decl, it *item, errAt func(string, int, string, string, ...any)) []nameEntry {
	v := it.val
	if v.Kind != yaml.SequenceNode || len(v.Content) == 0 {
		errAt(it.file, it.line, kwNames, "names must be a non-empty list")
		return nil
	}
	var out []nameEntry
	for _, e := range v.Content {
		e = deref(e)
		if s, ok := scalar(e); ok {
			out = append(out, nameEntry{name: s})
			continue
		}
		if e.Kind == yaml.MappingNode && len(e.Content) == 2 {
			k, body := deref(e.Content[0]), deref(e.Content[1])
			name, ok := scalar(k)
			if ok {
				ne := nameEntry{name: name, items: []item{}}
				tmp := &decl{module: dc.module}
				fileErr := func(line int, format string, a ...any) { errAt(it.file, line, kwNames, format, a...) }
				switch {
				case isNull(body):
				case body.Kind == yaml.SequenceNode:
					c.parseItems(it.file, tmp, body.Content, fileErr)
				case body.Kind == yaml.MappingNode:
					for i := 0; i+1 < len(body.Content); i += 2 {
						pair := &yaml.Node{Kind: yaml.MappingNode, Line: body.Content[i].Line, Content: body.Content[i : i+2]}
						c.parseItems(it.file, tmp, []*yaml.Node{pair}, fileErr)
					}
				default:
					errAt(it.file, k.Line, kwNames, "arguments for name '%s' must be a list of `- arg: value` items", name)
					continue
				}
				if tmp.function != "" {
					errAt(it.file, tmp.fnLine, kwNames, "names entry '%s' cannot set a function ('%s')", name, tmp.function)
				}
				for _, ni := range tmp.items {
					if ni.key == kwName || ni.key == kwNames {
						errAt(it.file, ni.line, kwNames, "'%s' cannot be set inside names", ni.key)
						continue
					}
					ne.items = append(ne.items, ni)
				}
				ne.reqs = tmp.reqs
				out = append(out, ne)
				continue
			}
		}
		errAt(it.file, e.Line, kwNames, "names items must be names or `- name: [{arg: value}]`, got %s", kindName(e))
	}
	return out
}

// decodeValue converts a YAML node to plain Go values (map[string]any,
// []any, string, int, float64, bool, nil) the way Salt's YAML loader
// would: yes/no are booleans, and so on.
func decodeValue(n *yaml.Node) (any, error) {
	return render.ToValue(n)
}

// stateLabel names a state in messages: its ID, plus the name when names:
// expanded the ID into several states.
func stateLabel(st *state.State) string {
	if st.Name == st.ID {
		return st.ID
	}
	return st.ID + " (" + strings.TrimSpace(st.Name) + ")"
}
