package render

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Serialisers matching what Salt's filters produce with Python's json
// module and PyYAML's safe dumper. Salt's json filter and PyYAML's
// safe_dump sort dict keys; Salt's tojson keeps the dicts' order.

// pyJSON is json.dumps(x, sort_keys=sortKeys, ensure_ascii=ascii,
// indent=indent); indent < 0 means no indent.
func pyJSON(x any, sortKeys, ascii bool, indent int) (string, error) {
	var b strings.Builder
	w := jsonWriter{b: &b, sortKeys: sortKeys, ascii: ascii, indent: indent}
	if err := w.write(toPy(x), 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

// jsonWriter writes template values as Python's json.dumps does.
type jsonWriter struct {
	b        *strings.Builder
	sortKeys bool
	ascii    bool
	indent   int // < 0: none
}

func (w *jsonWriter) nl(level int) {
	if w.indent >= 0 {
		w.b.WriteByte('\n')
		w.b.WriteString(strings.Repeat(" ", w.indent*level))
	}
}

func (w *jsonWriter) sep() string {
	if w.indent >= 0 {
		return ","
	}
	return ", "
}

func (w *jsonWriter) write(x any, level int) error {
	b := w.b
	switch v := x.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case int:
		b.WriteString(strconv.Itoa(v))
	case float64:
		switch {
		case math.IsNaN(v):
			b.WriteString("NaN")
		case math.IsInf(v, 1):
			b.WriteString("Infinity")
		case math.IsInf(v, -1):
			b.WriteString("-Infinity")
		default:
			b.WriteString(pyFloat(v))
		}
	case string:
		b.WriteString(jsonQuote(v, w.ascii))
	case pyDict:
		if len(v) == 0 {
			b.WriteString("{}")
			return nil
		}
		keys := v.keys()
		if w.sortKeys {
			keys = v.sortedKeys()
		}
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteString(w.sep())
			}
			w.nl(level + 1)
			b.WriteString(jsonQuote(k, w.ascii))
			b.WriteString(": ")
			if err := w.write(toPy(v[k].v), level+1); err != nil {
				return err
			}
		}
		w.nl(level)
		b.WriteByte('}')
	case *pyList:
		return w.writeSeq(*v, level)
	case pyTuple:
		return w.writeSeq(v, level)
	default:
		return fmt.Errorf("Object of type %s is not JSON serializable", pyTypeName(v))
	}
	return nil
}

func (w *jsonWriter) writeSeq(items []any, level int) error {
	if len(items) == 0 {
		w.b.WriteString("[]")
		return nil
	}
	w.b.WriteByte('[')
	for i, e := range items {
		if i > 0 {
			w.b.WriteString(w.sep())
		}
		w.nl(level + 1)
		if err := w.write(toPy(e), level+1); err != nil {
			return err
		}
	}
	w.nl(level)
	w.b.WriteByte(']')
	return nil
}

func jsonQuote(s string, ascii bool) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		default:
			switch {
			case r < 0x20:
				fmt.Fprintf(&b, `\u%04x`, r)
			case ascii && r > 0x7e:
				if r > 0xffff {
					r -= 0x10000
					fmt.Fprintf(&b, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
				} else {
					fmt.Fprintf(&b, `\u%04x`, r)
				}
			default:
				b.WriteRune(r)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// yamlDquote is PyYAML's Emitter.write_double_quoted without line
// wrapping and without allow_unicode, as Salt's yaml_dquote uses it.
func yamlDquote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if esc, ok := yamlEscapes[r]; ok {
			b.WriteByte('\\')
			b.WriteString(esc)
			continue
		}
		switch {
		case r == 0xfeff || !(r >= 0x20 && r <= 0x7e):
			switch {
			case r <= 0xff:
				fmt.Fprintf(&b, `\x%02X`, r)
			case r <= 0xffff:
				fmt.Fprintf(&b, `\u%04X`, r)
			default:
				fmt.Fprintf(&b, `\U%08X`, r)
			}
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

var yamlEscapes = map[rune]string{
	0: "0", '\a': "a", '\b': "b", '\t': "t", '\n': "n", '\v': "v", '\f': "f",
	'\r': "r", 0x1b: "e", '"': `"`, '\\': `\`, 0x85: "N", 0xa0: "_",
	0x2028: "L", 0x2029: "P",
}

// yamlSquote is PyYAML's Emitter.write_single_quoted without wrapping: a
// run of line breaks gets one extra newline so it reads back the same.
func yamlSquote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); {
		if s[i] == '\n' {
			j := i
			for j < len(s) && s[j] == '\n' {
				j++
			}
			b.WriteString("\n")
			b.WriteString(s[i:j])
			i = j
			continue
		}
		if s[i] == '\'' {
			b.WriteString("''")
		} else {
			b.WriteByte(s[i])
		}
		i++
	}
	b.WriteByte('\'')
	return b.String()
}

// yamlScalar is how PyYAML's SafeRepresenter writes a scalar's value.
func yamlScalar(x any) (string, bool) {
	switch v := x.(type) {
	case nil:
		return "null", true
	case bool:
		if v {
			return "true", true
		}
		return "false", true
	case int:
		return strconv.Itoa(v), true
	case float64:
		switch {
		case math.IsNaN(v):
			return ".nan", true
		case math.IsInf(v, 1):
			return ".inf", true
		case math.IsInf(v, -1):
			return "-.inf", true
		}
		s := strings.ToLower(pyFloat(v))
		if !strings.Contains(s, ".") && strings.Contains(s, "e") {
			s = strings.Replace(s, "e", ".0e", 1)
		}
		return s, true
	}
	return "", false
}

// yamlEncode is Salt's yaml_encode: scalars only, strings double-quoted.
func yamlEncode(x any) (string, error) {
	x = toPy(x)
	if s, ok := x.(string); ok {
		return yamlDquote(s), nil
	}
	if s, ok := yamlScalar(x); ok {
		return s, nil
	}
	return "", fmt.Errorf("yaml_encode() only works with YAML scalar data; failed for <class '%s'>", pyTypeName(x))
}

// yamlDump is salt.utils.yaml.safe_dump(x, default_flow_style=flow) with
// Salt's strip of the document end marker. Unlike PyYAML it never wraps
// long lines (the data read back is the same).
func yamlDump(x any, flow bool) (string, error) {
	x = toPy(x)
	var b strings.Builder
	var err error
	if flow || isScalar(x) || isEmpty(x) {
		err = writeFlow(&b, x, false)
	} else {
		err = writeBlock(&b, x, 0, false)
	}
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(b.String()), nil
}

func isScalar(x any) bool {
	switch x.(type) {
	case pyDict, *pyList, pyTuple:
		return false
	}
	return true
}

func isEmpty(x any) bool {
	switch v := x.(type) {
	case pyDict:
		return len(v) == 0
	case *pyList:
		return len(*v) == 0
	case pyTuple:
		return len(v) == 0
	}
	return false
}

func writeFlow(b *strings.Builder, x any, key bool) error {
	switch v := toPy(x).(type) {
	case pyDict:
		b.WriteByte('{')
		for i, k := range v.sortedKeys() {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(yamlString(k, true, true))
			b.WriteString(": ")
			if err := writeFlow(b, v[k].v, false); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case *pyList:
		return writeFlowSeq(b, *v)
	case pyTuple:
		return writeFlowSeq(b, v)
	case string:
		b.WriteString(yamlString(v, true, key))
	default:
		s, ok := yamlScalar(v)
		if !ok {
			return fmt.Errorf("cannot represent an object of type %s", pyTypeName(v))
		}
		b.WriteString(s)
	}
	return nil
}

func writeFlowSeq(b *strings.Builder, items []any) error {
	b.WriteByte('[')
	for i, e := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		if err := writeFlow(b, e, false); err != nil {
			return err
		}
	}
	b.WriteByte(']')
	return nil
}

// writeBlock writes a non-empty collection in PyYAML's block style:
// mappings indent their values by two, sequences in mappings do not.
func writeBlock(b *strings.Builder, x any, indent int, inSeq bool) error {
	pad := strings.Repeat(" ", indent)
	switch v := x.(type) {
	case pyDict:
		for i, k := range v.sortedKeys() {
			if i > 0 || !inSeq {
				b.WriteString(pad)
			}
			b.WriteString(yamlString(k, false, true))
			b.WriteByte(':')
			e := toPy(v[k].v)
			switch {
			case isScalar(e) || isEmpty(e):
				b.WriteByte(' ')
				if err := writeFlow(b, e, false); err != nil {
					return err
				}
				b.WriteByte('\n')
			case isDict(e):
				b.WriteByte('\n')
				if err := writeBlock(b, e, indent+2, false); err != nil {
					return err
				}
			default:
				b.WriteByte('\n')
				if err := writeBlock(b, e, indent, false); err != nil {
					return err
				}
			}
		}
	case *pyList:
		return writeBlockSeq(b, *v, indent, pad)
	case pyTuple:
		return writeBlockSeq(b, v, indent, pad)
	}
	return nil
}

func isDict(x any) bool { _, ok := x.(pyDict); return ok }

func writeBlockSeq(b *strings.Builder, items []any, indent int, pad string) error {
	for _, e := range items {
		e = toPy(e)
		b.WriteString(pad)
		b.WriteString("- ")
		switch {
		case isScalar(e) || isEmpty(e):
			if err := writeFlow(b, e, false); err != nil {
				return err
			}
			b.WriteByte('\n')
		default:
			if err := writeBlock(b, e, indent+2, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// yamlString writes s as PyYAML chooses: plain when that reads back as
// the same string, else single-quoted, else double-quoted.
func yamlString(s string, flow, key bool) string {
	a := analyzeScalar(s)
	multiline := a.lineBreaks
	if resolve11(s) == "str" && !(key && multiline) && s != "" {
		if flow && a.allowFlowPlain || !flow && a.allowBlockPlain {
			return s
		}
	}
	if a.allowSingle && !(key && multiline) {
		return yamlSquote(s)
	}
	return yamlDquote(s)
}

type scalarAnalysis struct {
	lineBreaks, allowFlowPlain, allowBlockPlain, allowSingle bool
}

// analyzeScalar follows PyYAML's Emitter.analyze_scalar (allow_unicode on,
// as in Salt's safe_dump).
func analyzeScalar(s string) scalarAnalysis {
	if s == "" {
		return scalarAnalysis{allowBlockPlain: true, allowSingle: true}
	}
	var blockInd, flowInd, lineBreaks, special bool
	var leadSpace, leadBreak, trailSpace, trailBreak, breakSpace, spaceBreak bool
	if strings.HasPrefix(s, "---") || strings.HasPrefix(s, "...") {
		blockInd, flowInd = true, true
	}
	runes := []rune(s)
	preWS := true
	prevSpace, prevBreak := false, false
	isBreak := func(r rune) bool { return r == '\n' || r == 0x85 || r == 0x2028 || r == 0x2029 }
	for i, r := range runes {
		followWS := i+1 >= len(runes) || strings.ContainsRune(" \t\n\r\u0085\u2028\u2029", runes[i+1]) || runes[i+1] == 0
		if i == 0 {
			if strings.ContainsRune("#,[]{}&*!|>'\"%@`", r) {
				flowInd, blockInd = true, true
			}
			if r == '?' || r == ':' {
				flowInd = true
				if followWS {
					blockInd = true
				}
			}
			if r == '-' && followWS {
				flowInd, blockInd = true, true
			}
		} else {
			if strings.ContainsRune(",?[]{}", r) {
				flowInd = true
			}
			if r == ':' {
				flowInd = true
				if followWS {
					blockInd = true
				}
			}
			if r == '#' && preWS {
				flowInd, blockInd = true, true
			}
		}
		if isBreak(r) {
			lineBreaks = true
		}
		if !(r == '\n' || r >= 0x20 && r <= 0x7e) {
			uni := (r == 0x85 || r >= 0xa0 && r <= 0xd7ff || r >= 0xe000 && r <= 0xfffd || r >= 0x10000 && r < 0x10ffff) && r != 0xfeff
			if !uni {
				special = true
			}
		}
		switch {
		case r == ' ':
			if i == 0 {
				leadSpace = true
			}
			if i == len(runes)-1 {
				trailSpace = true
			}
			if prevBreak {
				breakSpace = true
			}
			prevSpace, prevBreak = true, false
		case isBreak(r):
			if i == 0 {
				leadBreak = true
			}
			if i == len(runes)-1 {
				trailBreak = true
			}
			if prevSpace {
				spaceBreak = true
			}
			prevSpace, prevBreak = false, true
		default:
			prevSpace, prevBreak = false, false
		}
		preWS = strings.ContainsRune(" \t\n\r\u0085\u2028\u2029", r) || r == 0
	}
	a := scalarAnalysis{lineBreaks: lineBreaks, allowFlowPlain: true, allowBlockPlain: true, allowSingle: true}
	if leadSpace || leadBreak || trailSpace || trailBreak {
		a.allowFlowPlain, a.allowBlockPlain = false, false
	}
	if breakSpace {
		a.allowFlowPlain, a.allowBlockPlain, a.allowSingle = false, false, false
	}
	if spaceBreak || special {
		a.allowFlowPlain, a.allowBlockPlain, a.allowSingle = false, false, false
	}
	if lineBreaks {
		a.allowFlowPlain, a.allowBlockPlain = false, false
	}
	if flowInd {
		a.allowFlowPlain = false
	}
	if blockInd {
		a.allowBlockPlain = false
	}
	return a
}
