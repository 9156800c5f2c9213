package render

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// parseYAML parses rendered text into a document node, checking Salt's
// rule that a mapping may not repeat a key. Empty or comment-only text
// gives nil (Salt: {}).
func parseYAML(file, sls string, text []byte) (n *yaml.Node, err error) {
	defer func() {
		if p := recover(); p != nil {
			n, err = nil, &Error{SLS: sls, Top: file, File: file, Msg: fmt.Sprintf("failed to parse rendered YAML: parser crashed: %v", p)}
		}
	}()
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(text))
	if err := dec.Decode(&doc); err != nil {
		if err.Error() == "EOF" {
			return nil, nil
		}
		line, msg := yamlErrLine(err)
		if l := firstBadLine(text, msg); l > 0 {
			line = l
		}
		if tabIndented(text, line) {
			msg += " (this line is indented with a tab: YAML indents with spaces only)"
		}
		return nil, &Error{SLS: sls, Top: file, File: file, Line: line,
			Msg: "failed to parse rendered YAML: " + msg, src: string(text)}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil {
		return nil, &Error{SLS: sls, Top: file, File: file, Line: extra.Line,
			Msg: "failed to parse rendered YAML: more than one document", src: string(text)}
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	if body := doc.Content[0]; body.Kind == yaml.ScalarNode && body.Tag == "!!null" {
		return nil, nil
	}
	if line := aliasBomb(doc.Content[0]); line > 0 {
		// No source excerpt: the bomb's line shows nothing useful.
		return nil, &Error{SLS: sls, Top: file, File: file, Line: line, Msg: fmt.Sprintf(
			"YAML document expands to more than %d values once aliases are followed (an alias bomb?)", maxYAMLNodes)}
	}
	if err := checkDuplicates(doc.Content[0]); err != nil {
		err.SLS, err.Top, err.File, err.src = sls, file, file, string(text)
		return nil, err
	}
	return &doc, nil
}

// aliasBomb returns the line of the alias at which the document's size,
// aliases expanded, passes maxYAMLNodes (0 if it never does). Sizes are
// memoised per node, so the check is linear in the parsed document;
// every consumer (pillar, compile, imports) walks the expanded tree.
func aliasBomb(root *yaml.Node) int {
	size := map[*yaml.Node]int{}
	bad := 0
	var count func(n *yaml.Node, depth int) int
	count = func(n *yaml.Node, depth int) int {
		if n == nil || bad > 0 {
			return 0
		}
		if s, ok := size[n]; ok {
			return s
		}
		if depth > 10000 { // an alias to an enclosing node: a cycle
			bad = n.Line
			return 0
		}
		s := 1
		if n.Kind == yaml.AliasNode {
			s = count(n.Alias, depth+1)
		}
		for _, c := range n.Content {
			s += count(c, depth+1)
			if s > maxYAMLNodes {
				if bad == 0 {
					bad = c.Line
				}
				return s
			}
		}
		if s > maxYAMLNodes && bad == 0 {
			bad = n.Line
		}
		size[n] = s
		return s
	}
	count(root, 0)
	return bad
}

// firstBadLine is the first line at which text fails as a whole fails
// (with the same problem, msg): the shortest run of leading lines that
// does. yaml.v3 reports a parser error at the start of the enclosing block
// (0-based, and often several lines early) and an unclosed quote or bracket
// at the end of the text; the line where parsing first breaks is the one to
// fix, or where the unclosed quote or bracket opens. Prefixes cut inside an
// earlier multi-line scalar fail with another problem and do not count.
// Binary search: on the error path only, O(log n) parses.
func firstBadLine(text []byte, msg string) int {
	lines := bytes.SplitAfter(text, []byte("\n"))
	fails := func(k int) bool {
		var n yaml.Node
		err := yaml.NewDecoder(bytes.NewReader(bytes.Join(lines[:k], nil))).Decode(&n)
		if err == nil {
			return false
		}
		_, m := yamlErrLine(err)
		return m == msg
	}
	lo, hi := 1, len(lines)
	if !fails(hi) {
		return 0
	}
	for lo < hi {
		mid := (lo + hi) / 2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return hi
}

// tabIndented reports whether 1-based line of text starts with
// whitespace holding a tab.
func tabIndented(text []byte, line int) bool {
	lines := bytes.Split(text, []byte("\n"))
	if line < 1 || line > len(lines) {
		return false
	}
	l := lines[line-1]
	indent := l[:len(l)-len(bytes.TrimLeft(l, " \t"))]
	return bytes.ContainsRune(indent, '\t')
}

var yamlLineRe = regexp.MustCompile(`^yaml: (?:line (\d+): )?(.*)$`)

func yamlErrLine(err error) (int, string) {
	msg := err.Error()
	if m := yamlLineRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return line, m[2]
	}
	return 0, msg
}

// checkDuplicates reports the first key repeated in a mapping, at any depth.
func checkDuplicates(n *yaml.Node) *Error {
	if n == nil {
		return nil
	}
	if n.Kind == yaml.MappingNode {
		seen := map[string]*yaml.Node{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Value == "<<" && k.Style == 0 {
				continue
			}
			v, err := scalarValue(k)
			if err != nil {
				continue
			}
			id := fmt.Sprintf("%T:%s", v, pyStr(v))
			if first, ok := seen[id]; ok {
				return &Error{Line: k.Line, Msg: fmt.Sprintf(
					"failed to parse rendered YAML: found conflicting ID '%s' on line %d (first defined on line %d)",
					k.Value, k.Line, first.Line)}
			}
			seen[id] = k
		}
	}
	for _, c := range n.Content {
		if err := checkDuplicates(c); err != nil {
			return err
		}
	}
	return nil
}

// parseJSON parses rendered JSON into a YAML node (JSON is YAML), keeping
// key order and lines.
func parseJSON(file, sls string, text []byte) (*yaml.Node, error) {
	if len(bytes.TrimSpace(text)) == 0 {
		return nil, nil
	}
	if json.Valid(text) {
		n, err := parseYAML(file, sls, text)
		if n != nil {
			tagJSONScalars(n)
		}
		return n, err
	}
	{
		var v any
		err := json.Unmarshal(text, &v)
		line := 0
		if se, ok := err.(*json.SyntaxError); ok {
			line = 1 + bytes.Count(text[:min(int(se.Offset), len(text))], []byte("\n"))
		}
		return nil, &Error{SLS: sls, Top: file, File: file, Line: line,
			Msg: fmt.Sprintf("failed to parse rendered JSON: %v", err), src: string(text)}
	}
}

// tagJSONScalars gives JSON's unquoted scalars explicit tags so ToValue
// reads them by JSON's rules, not YAML 1.1's (1e5 is a number in JSON).
func tagJSONScalars(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Style == 0 {
		switch {
		case n.Value == "true" || n.Value == "false":
			n.Tag = "!!bool"
		case n.Value == "null":
			n.Tag = "!!null"
		case strings.ContainsAny(n.Value, ".eE"):
			n.Tag = "!!float"
		default:
			n.Tag = "!!int"
		}
		n.Style = yaml.TaggedStyle
	}
	for _, c := range n.Content {
		tagJSONScalars(c)
	}
}

// ToValue converts a node to plain Go values: map[string]any, []any,
// string, int, float64, bool and nil. Untagged plain scalars resolve as
// Salt's YAML loader (PyYAML, YAML 1.1) resolves them: yes/no/on/off are
// booleans, 0755 is octal, 1_000 is 1000; timestamps stay strings.
// Mapping keys become strings (Python's str() of the key). Aliases and
// "<<" merge keys are followed.
func ToValue(n *yaml.Node) (any, error) {
	return toValue(n, 0, &conv{})
}

// toPyValue is ToValue giving template values: dicts keep the document's
// key order, as Python's YAML and JSON loaders give it.
func toPyValue(n *yaml.Node) (any, error) {
	return toValue(n, 0, &conv{py: true})
}

// conv is one conversion: whether it builds Python values and how many
// nodes it has visited, aliases followed, against maxYAMLNodes.
type conv struct {
	py    bool
	nodes int
}

func toValue(n *yaml.Node, depth int, c *conv) (any, error) {
	if n == nil {
		return nil, nil
	}
	if depth > 10000 {
		return nil, fmt.Errorf("line %d: YAML nested too deeply", n.Line)
	}
	if c.nodes++; c.nodes > maxYAMLNodes {
		return nil, fmt.Errorf("line %d: YAML document expands to more than %d values once aliases are followed (an alias bomb?)", n.Line, maxYAMLNodes)
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return toValue(n.Content[0], depth+1, c)
	case yaml.AliasNode:
		return toValue(n.Alias, depth+1, c)
	case yaml.ScalarNode:
		return scalarValue(n)
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, item := range n.Content {
			v, err := toValue(item, depth+1, c)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		if c.py {
			l := pyList(out)
			return &l, nil
		}
		return out, nil
	case yaml.MappingNode:
		keys, vals, err := mappingPairs(n, depth, c)
		if err != nil {
			return nil, err
		}
		if c.py {
			d := newDict(len(keys))
			for _, k := range keys {
				d.set(k, vals[k])
			}
			return d, nil
		}
		return vals, nil
	}
	return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
}

// mappingPairs reads a mapping's keys in order and its values. Merged
// ("<<") keys come first, as Salt's loader puts them, unless the mapping
// sets them itself; explicit keys win, and among merge sources the
// earlier one wins.
func mappingPairs(n *yaml.Node, depth int, c *conv) ([]string, map[string]any, error) {
	var own []string
	vals := map[string]any{}
	var merges [][]string // each source's keys, in order
	var mergeVals []map[string]any
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.Style == 0 {
			ks, ms, err := mergeSources(v, depth, c)
			if err != nil {
				return nil, nil, err
			}
			merges = append(merges, ks...)
			mergeVals = append(mergeVals, ms...)
			continue
		}
		if k.Kind == yaml.AliasNode {
			k = k.Alias
		}
		if k.Kind != yaml.ScalarNode {
			return nil, nil, fmt.Errorf("line %d: found unhashable key (a mapping key must be a scalar)", k.Line)
		}
		kv, err := toValue(k, depth+1, c)
		if err != nil {
			return nil, nil, err
		}
		vv, err := toValue(v, depth+1, c)
		if err != nil {
			return nil, nil, err
		}
		ks := keyString(kv)
		if _, dup := vals[ks]; !dup {
			own = append(own, ks)
		}
		vals[ks] = vv
	}
	if len(merges) == 0 {
		return own, vals, nil
	}
	var keys []string
	seen := map[string]bool{}
	// PyYAML lists the pairs of later merge sources first.
	for i := len(merges) - 1; i >= 0; i-- {
		for _, k := range merges[i] {
			if _, explicit := vals[k]; !explicit && !seen[k] {
				seen[k] = true
				keys = append(keys, k)
			}
		}
	}
	for _, k := range keys {
		for i := range merges {
			if v, ok := mergeVals[i][k]; ok {
				vals[k] = v
				break
			}
		}
	}
	return append(keys, own...), vals, nil
}

func mergeSources(v *yaml.Node, depth int, c *conv) ([][]string, []map[string]any, error) {
	if v.Kind == yaml.AliasNode {
		v = v.Alias
	}
	var nodes []*yaml.Node
	switch v.Kind {
	case yaml.MappingNode:
		nodes = []*yaml.Node{v}
	case yaml.SequenceNode:
		nodes = v.Content
	default:
		return nil, nil, fmt.Errorf("line %d: a merge key needs a mapping or a list of mappings", v.Line)
	}
	var keys [][]string
	var vals []map[string]any
	for _, m := range nodes {
		if m.Kind == yaml.AliasNode {
			m = m.Alias
		}
		if m.Kind != yaml.MappingNode {
			return nil, nil, fmt.Errorf("line %d: a merge key needs a mapping or a list of mappings", m.Line)
		}
		ks, vs, err := mappingPairs(m, depth+1, c)
		if err != nil {
			return nil, nil, err
		}
		keys = append(keys, ks)
		vals = append(vals, vs)
	}
	return keys, vals, nil
}

func keyString(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return pyStr(v)
}

// YAML 1.1 implicit types as PyYAML's resolver defines them.
var (
	yBool  = regexp.MustCompile(`^(?:yes|Yes|YES|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF)$`)
	yInt   = regexp.MustCompile(`^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+|[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$`)
	yFloat = regexp.MustCompile(`^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$`)
	yNull  = regexp.MustCompile(`^(?:~|null|Null|NULL|)$`)
	yTime  = regexp.MustCompile(`^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]|[0-9][0-9][0-9][0-9]-[0-9][0-9]?-[0-9][0-9]?(?:[Tt]|[ \t]+)[0-9][0-9]?:[0-9][0-9]:[0-9][0-9](?:\.[0-9]*)?(?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$`)
	// implicitMax[c] is the length of the longest non-str plain scalar
	// that can start with byte c (see the patterns above): 5 for the
	// letters of the bool and null words ("false"), 2 for "<<", 1 for "~"
	// and "=", any for numbers and timestamps, 0 when none starts with c.
	implicitMax = func() (t [256]int) {
		for _, c := range []byte("yYnNtTfFoO") {
			t[c] = 5
		}
		for _, c := range []byte("0123456789+-.") {
			t[c] = math.MaxInt
		}
		t['<'], t['~'], t['='] = 2, 1, 1
		return t
	}()
)

// resolve11 gives the YAML 1.1 type of a plain scalar: "bool", "int",
// "float", "null", "timestamp", "merge" or "str".
func resolve11(s string) string {
	// Most keys and values (IDs, function names) are decided here, without
	// the regexps (a fifth of a 1,000-state run's instructions, issue 8).
	if s != "" && len(s) > implicitMax[s[0]] {
		return "str"
	}
	return resolve11Regexps(s)
}

// resolve11Regexps is resolve11 without the shortcut: the PyYAML patterns
// alone decide (the shortcut's test compares the two).
func resolve11Regexps(s string) string {
	switch {
	case yBool.MatchString(s):
		return "bool"
	case yInt.MatchString(s):
		return "int"
	case yFloat.MatchString(s):
		return "float"
	case yNull.MatchString(s):
		return "null"
	case yTime.MatchString(s):
		return "timestamp"
	case s == "<<":
		return "merge"
	case s == "=":
		return "value"
	}
	return "str"
}

func scalarValue(n *yaml.Node) (any, error) {
	if n.Style&yaml.TaggedStyle != 0 {
		switch n.ShortTag() {
		case "!!str", "!!timestamp", "!!binary":
			return n.Value, nil
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %v", n.Line, err)
		}
		return v, nil
	}
	if n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle|yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		return n.Value, nil
	}
	return plainValue(n.Value, n.Line)
}

func plainValue(s string, line int) (any, error) {
	switch resolve11(s) {
	case "bool":
		switch strings.ToLower(s) {
		case "yes", "true", "on":
			return true, nil
		}
		return false, nil
	case "null":
		return nil, nil
	case "int":
		v, err := parseInt11(s)
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", line, err)
		}
		return v, nil
	case "float":
		return parseFloat11(s), nil
	}
	return s, nil
}

func parseInt11(s string) (int, error) {
	s = strings.ReplaceAll(s, "_", "")
	sign := 1
	if s[0] == '-' || s[0] == '+' {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	var v int64
	var err error
	switch {
	case s == "0":
		return 0, nil
	case strings.HasPrefix(s, "0b"):
		v, err = strconv.ParseInt(s[2:], 2, 64)
	case strings.HasPrefix(s, "0x"):
		v, err = strconv.ParseInt(s[2:], 16, 64)
	case s[0] == '0':
		v, err = strconv.ParseInt(s, 8, 64)
	case strings.Contains(s, ":"):
		for _, d := range strings.Split(s, ":") {
			x, e := strconv.ParseInt(d, 10, 64)
			if e != nil {
				return 0, e
			}
			v = v*60 + x
		}
	default:
		v, err = strconv.ParseInt(s, 10, 64)
	}
	if err != nil {
		return 0, fmt.Errorf("integer %q out of range", s)
	}
	return sign * int(v), nil
}

func parseFloat11(s string) float64 {
	s = strings.ToLower(strings.ReplaceAll(s, "_", ""))
	sign := 1.0
	if s[0] == '-' || s[0] == '+' {
		if s[0] == '-' {
			sign = -1
		}
		s = s[1:]
	}
	switch {
	case s == ".inf":
		return sign * math.Inf(1)
	case s == ".nan":
		return math.NaN()
	case strings.Contains(s, ":"):
		parts := strings.Split(s, ":")
		v := 0.0
		for _, d := range parts {
			x, _ := strconv.ParseFloat(d, 64)
			v = v*60 + x
		}
		return sign * v
	}
	v, _ := strconv.ParseFloat(s, 64)
	return sign * v
}
