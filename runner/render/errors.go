package render

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/parser"

	"github.com/statectl/statectl/runner/secret"
)

// Error is a render failure, formatted as Salt formats it:
//
//	Rendering SLS 'base:incus.cluster' failed: Jinja variable 'x' is undefined; line 9
//
//	---
//	[...]
//	{{ x }}    <======================
//	---
type Error struct {
	SLS  string // "saltenv:sls" when rendering an SLS, else ""
	Top  string // the file being rendered, below the root
	File string // the file the error is in (Top or a template it loads)
	Line int    // 1-based line in File (or in the rendered text for YAML errors); 0 if unknown
	Msg  string // e.g. "Jinja variable 'x' is undefined"

	// src is the text Line refers to: the template, or the rendered
	// output when the YAML stage failed.
	src string
	// secrets are pillar values removed from the message and excerpt.
	secrets *secret.Set
}

// Context returns up to five lines of the text either side of the bad line,
// the bad line marked, as Salt prints it ("" when the line is unknown).
func (e *Error) Context() string {
	if e.Line <= 0 || e.src == "" {
		return ""
	}
	return maskSecretLines(e.redact(excerpt(e.src, e.Line)))
}

// secretLineRe matches a one-line `key: value` (or `- key: value`) entry.
var secretLineRe = regexp.MustCompile(`^(\s*(?:-\s+)?["']?([^\s"':#][^"':]*)["']?\s*:\s+)(\S.*?)(    <=+)?$`)

// maskSecretLines masks the value of every `key: value` line whose key
// names a credential (secret.Key). The excerpt of a pillar file shows its
// source, where the secrets are literal text that no rendered pillar has
// yet told us about (the file failed to render).
func maskSecretLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		m := secretLineRe.FindStringSubmatch(l)
		if m == nil || !secret.Key(m[2]) {
			continue
		}
		lines[i] = m[1] + maskLiteral(m[3]) + m[4]
	}
	return strings.Join(lines, "\n")
}

// exprRe finds template expressions and tags in a line of source.
var exprRe = regexp.MustCompile(`\{\{.*?\}\}|\{%.*?%\}`)

// maskLiteral masks the literal text of a value but keeps its template
// expressions: `"{{ pillar['incus']['nope'] }}"` is source, not a secret,
// and is what a reader of a failed lookup needs to see.
func maskLiteral(v string) string {
	if !exprRe.MatchString(v) {
		return secret.Mask
	}
	var b strings.Builder
	last := 0
	lit := func(s string) {
		core := strings.Trim(s, `"' `)
		if core == "" {
			b.WriteString(s)
			return
		}
		i := strings.Index(s, core)
		b.WriteString(s[:i] + secret.Mask + s[i+len(core):])
	}
	for _, m := range exprRe.FindAllStringIndex(v, -1) {
		lit(v[last:m[0]])
		b.WriteString(v[m[0]:m[1]])
		last = m[1]
	}
	lit(v[last:])
	return b.String()
}

func (e *Error) redact(s string) string { return e.secrets.String(s) }

// pillarSecrets collects the values under secret pillar keys, so errors
// (which may quote rendered text) never show them.
func pillarSecrets(ctx *Context) *secret.Set {
	if ctx == nil {
		return nil
	}
	s := &secret.Set{}
	s.AddUnderKeys(ctx.Pillar)
	return s
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("Rendering ")
	switch {
	case e.SLS != "":
		fmt.Fprintf(&b, "SLS '%s'", e.SLS)
	case e.Top != "":
		fmt.Fprintf(&b, "'%s'", e.Top)
	default:
		fmt.Fprintf(&b, "'%s'", e.File)
	}
	b.WriteString(" failed: ")
	b.WriteString(e.redact(e.Msg))
	if e.File != "" && e.Top != "" && e.File != e.Top {
		fmt.Fprintf(&b, " (in %s)", e.File)
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "; line %d", e.Line)
		if c := e.Context(); c != "" {
			b.WriteString("\n\n")
			b.WriteString(c)
		}
	}
	return b.String()
}

const marker = "    <======================"

// excerpt mirrors salt.utils.stringutils.get_context.
func excerpt(text string, line int) string {
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	if line > len(lines) {
		return "---\n" + text + "\n---"
	}
	start := max(0, line-5-1)
	end := min(len(lines), line+5)
	at := line - start - 1
	var buf []string
	if start > 0 {
		buf = append(buf, "[...]")
		at++
	}
	buf = append(buf, lines[start:end]...)
	if end < len(lines) {
		buf = append(buf, "[...]")
	}
	buf[at] += marker
	return "---\n" + strings.Join(buf, "\n") + "\n---"
}

// syntaxError turns a gonja parse error into an *Error.
func syntaxError(file, src string, err error) error {
	var se *parser.SyntaxError
	if errors.As(err, &se) {
		line, msg := se.Line, se.Message
		if m := unclosedRe.FindStringSubmatch(msg); m != nil {
			// gonja reports an unclosed block at the end of the file;
			// point at the tag that opened it, as Jinja2's message names it.
			if open := unclosedLine(src, m[1]); open > 0 {
				line = open
				tags := strings.Split(strings.TrimSuffix(strings.TrimPrefix(msg, "Unexpected EOF, expected tag "), "."), " or ")
				msg = fmt.Sprintf("Unexpected end of template. Jinja was looking for the following tags: '%s'. "+
					"The innermost block that needs to be closed is '%s', opened on line %d", strings.Join(tags, "' or '"), m[1], open)
			}
		}
		return &Error{File: file, Top: file, Line: line, Msg: "Jinja syntax error: " + msg, src: src}
	}
	var re *Error
	if errors.As(err, &re) {
		return re
	}
	msg := err.Error()
	// gonja prefixes parse errors with the whole source; keep the cause.
	if u := errors.Unwrap(err); u != nil {
		msg = u.Error()
	}
	line := 0
	if m := lineColRe.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	return &Error{File: file, Top: file, Line: line, Msg: "Jinja syntax error: " + msg, src: src}
}

// unclosedRe matches gonja's end-of-file message for an unclosed block and
// names the block ("if" for "... or endif").
var unclosedRe = regexp.MustCompile(`^Unexpected EOF, expected tag (?:.* or )?end(\w+)`)

// tagRe finds block tags and their names in template source.
var tagRe = regexp.MustCompile(`\{%[-+]?\s*(\w+)`)

// unclosedLine returns the line of the innermost {% name %} in src that no
// {% endname %} closes (0 if none is found).
func unclosedLine(src, name string) int {
	var open []int
	for _, m := range tagRe.FindAllStringSubmatchIndex(src, -1) {
		switch src[m[2]:m[3]] {
		case name:
			open = append(open, 1+strings.Count(src[:m[0]], "\n"))
		case "end" + name:
			if len(open) > 0 {
				open = open[:len(open)-1]
			}
		}
	}
	if len(open) == 0 {
		return 0
	}
	return open[len(open)-1]
}

var (
	lineColRe   = regexp.MustCompile(`\(Line: (\d+) Col: \d+`)
	atLineRe    = regexp.MustCompile(`at line (\d+)`)
	undefNameRe = regexp.MustCompile(`^Unable to evaluate name "(.*)"$`)
	notFoundRe  = regexp.MustCompile(`^(?i:unable to evaluate) (.*): (?:attribute|item) '?(.*?)'? not found$`)
	noneAttrRe  = regexp.MustCompile(`^Can't use (?:getattr|Getitem) on None$`)
)

// wrap turns an execution error of template jt into an *Error with the
// innermost line and a Jinja2-style message.
func (st *renderState) wrap(jt *jinjaTemplate, err error) error {
	cause := st.cause(err)
	if re := findErr[*Error](cause); re != nil {
		// Raised by a template this one loaded: keep its file and line.
		return re
	}
	line := 0
	for _, m := range atLineRe.FindAllStringSubmatch(err.Error(), -1) {
		line, _ = strconv.Atoi(m[1])
	}
	return &Error{SLS: SLSLabel(st.ctx), Top: st.top, File: jt.name, Line: line, Msg: jinjaMessage(cause), src: jt.src}
}

// cause picks the most informative error behind err: err itself if its
// chain is intact, else the latest error a filter passed on whose text
// err quotes.
func (st *renderState) cause(err error) error {
	if findErr[*Error](err) != nil || findErr[*undefinedError](err) != nil || findErr[*templateError](err) != nil {
		return err
	}
	msg := err.Error()
	var plain error
	for i := len(st.causes) - 1; i >= 0; i-- {
		c := st.causes[i]
		if !strings.Contains(msg, c.Error()) {
			continue
		}
		if findErr[*Error](c) != nil || findErr[*undefinedError](c) != nil || findErr[*templateError](c) != nil {
			return c
		}
		if plain == nil {
			plain = c
		}
	}
	if plain != nil {
		return plain
	}
	return err
}

// jinjaMessage phrases the cause of a gonja error as Salt/Jinja2 do.
func jinjaMessage(err error) string {
	if ue := findErr[*undefinedError](err); ue != nil {
		return "Jinja variable " + ue.msg
	}
	if te := findErr[*templateError](err); te != nil {
		return "Jinja error: " + te.msg
	}
	msg := rootCause(err).Error()
	if m := undefNameRe.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("Jinja variable '%s' is undefined", m[1])
	}
	if m := notFoundRe.FindStringSubmatch(msg); m != nil {
		return fmt.Sprintf("Jinja variable '%s' has no attribute '%s'", m[1], m[2])
	}
	if noneAttrRe.MatchString(msg) {
		return "Jinja variable 'None' has no attribute"
	}
	return "Jinja error: " + msg
}

// next steps one level into err: through Unwrap, pkg/errors' Cause, and
// gonja's *exec.Value, which carries errors as values.
func next(err error) error {
	if v, ok := err.(*exec.Value); ok {
		if inner, ok := v.Interface().(error); ok && inner != err {
			return inner
		}
		return nil
	}
	if u := errors.Unwrap(err); u != nil {
		return u
	}
	if c, ok := err.(interface{ Cause() error }); ok {
		return c.Cause()
	}
	return nil
}

// findErr returns the first error of type T in err's chain.
func findErr[T error](err error) T {
	var zero T
	for i := 0; err != nil && i < 1000; i++ {
		if t, ok := err.(T); ok {
			return t
		}
		err = next(err)
	}
	return zero
}

// rootCause is the innermost error of err's chain.
func rootCause(err error) error {
	for i := 0; i < 1000; i++ {
		n := next(err)
		if n == nil {
			return err
		}
		err = n
	}
	return err
}

// templateError is raised by the template itself or by Salt functions.
type templateError struct{ msg string }

func (e *templateError) Error() string { return e.msg }
