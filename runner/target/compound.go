package target

import (
	"fmt"
	"strings"
	"unicode"
)

// node is a parsed compound expression.
type node interface {
	eval(s *Subject) bool
	idOnly() bool
}

type notNode struct{ x node }

func (n notNode) eval(s *Subject) bool { return !n.x.eval(s) }
func (n notNode) idOnly() bool         { return n.x.idOnly() }

type binNode struct {
	and  bool
	l, r node
}

func (n binNode) eval(s *Subject) bool {
	if n.and {
		return n.l.eval(s) && n.r.eval(s)
	}
	return n.l.eval(s) || n.r.eval(s)
}
func (n binNode) idOnly() bool { return n.l.idOnly() && n.r.idOnly() }

type token struct {
	text string
	pos  int // 1-based column in the expression
}

// SyntaxError is a malformed compound expression.
type SyntaxError struct {
	Expr string
	Pos  int // 1-based column; 0 when the whole expression is at fault
	Msg  string
}

func (e *SyntaxError) Error() string {
	if e.Pos == 0 {
		return fmt.Sprintf("invalid target expression %q: %s", e.Expr, e.Msg)
	}
	return fmt.Sprintf("invalid target expression %q: column %d: %s", e.Expr, e.Pos, e.Msg)
}

// tokenize splits on whitespace as Salt does, then peels parentheses off
// word edges so "(G@os:Debian" works; a trailing ")" stays part of a regular
// expression when the regex's own parentheses need it.
func tokenize(expr string) []token {
	var toks []token
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		toks = append(toks, splitParens(expr[start:end], start+1)...)
		start = -1
	}
	for i, r := range expr {
		if unicode.IsSpace(r) {
			flush(i)
		} else if start < 0 {
			start = i
		}
	}
	flush(len(expr))
	return toks
}

func splitParens(w string, pos int) []token {
	var out []token
	for len(w) > 1 && w[0] == '(' {
		out = append(out, token{"(", pos})
		w, pos = w[1:], pos+1
	}
	var closing int
	if isRegexWord(w) {
		// Only the parentheses the regex does not balance belong to the
		// expression.
		closing = max(0, -regexParenBalance(w))
	} else {
		for closing < len(w)-1 && w[len(w)-1-closing] == ')' {
			closing++
		}
	}
	closing = min(closing, len(w)-1)
	if w == ")" || w == "(" {
		closing = 0
	}
	out = append(out, token{w[:len(w)-closing], pos})
	for i := range closing {
		out = append(out, token{")", pos + len(w) - closing + i})
	}
	return out
}

func isRegexWord(w string) bool {
	eng, _, _, ok := splitEngine(w)
	return ok && (eng == 'E' || eng == 'P' || eng == 'J')
}

// regexParenBalance counts unescaped "(" minus ")" outside character classes.
func regexParenBalance(w string) int {
	bal, inClass := 0, false
	for i := 0; i < len(w); i++ {
		switch c := w[i]; {
		case c == '\\':
			i++
		case inClass:
			if c == ']' {
				inClass = false
			}
		case c == '[':
			inClass = true
			if i+1 < len(w) && w[i+1] == '^' {
				i++
			}
			if i+1 < len(w) && w[i+1] == ']' {
				i++
			}
		case c == '(':
			bal++
		case c == ')':
			bal--
		}
	}
	return bal
}

// splitEngine parses "X@pattern" or "Xd@pattern" (d a custom delimiter,
// for G, P, I and J) as Salt's parse_target does.
func splitEngine(w string) (engine byte, delim byte, pattern string, ok bool) {
	const engines = "GPIJLNSER"
	if len(w) >= 2 && w[1] == '@' && strings.IndexByte(engines, w[0]) >= 0 {
		return w[0], ':', w[2:], true
	}
	if len(w) >= 3 && w[2] == '@' && strings.IndexByte("GPIJ", w[0]) >= 0 {
		return w[0], w[1], w[3:], true
	}
	return 0, ':', w, false
}

type parser struct {
	expr string
	toks []token
	i    int
}

func parseCompound(expr string) (node, error) {
	p := &parser{expr: expr, toks: tokenize(expr)}
	if len(p.toks) == 0 {
		return nil, &SyntaxError{Expr: expr, Msg: "empty expression"}
	}
	n, err := p.parseOr()
	if err != nil {
		return nil, err
	}
	if t, ok := p.peek(); ok {
		if t.text == ")" {
			return nil, p.errAt(t, "unbalanced \")\"")
		}
		return nil, p.errAt(t, fmt.Sprintf("expected \"and\" or \"or\" before %q", t.text))
	}
	return n, nil
}

func (p *parser) peek() (token, bool) {
	if p.i < len(p.toks) {
		return p.toks[p.i], true
	}
	return token{}, false
}

func (p *parser) errAt(t token, msg string) error {
	return &SyntaxError{Expr: p.expr, Pos: t.pos, Msg: msg}
}

func (p *parser) errEnd(msg string) error {
	return &SyntaxError{Expr: p.expr, Pos: len(p.expr) + 1, Msg: msg}
}

func (p *parser) parseOr() (node, error) {
	l, err := p.parseAnd()
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.peek()
		if !ok || t.text != "or" {
			return l, nil
		}
		p.i++
		r, err := p.parseAnd()
		if err != nil {
			return nil, err
		}
		l = binNode{and: false, l: l, r: r}
	}
}

func (p *parser) parseAnd() (node, error) {
	l, err := p.parseNot()
	if err != nil {
		return nil, err
	}
	for {
		t, ok := p.peek()
		if !ok {
			return l, nil
		}
		switch t.text {
		case "and":
			p.i++
		case "not":
			// Salt reads "A not B" as "A and not B".
		default:
			return l, nil
		}
		r, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		l = binNode{and: true, l: l, r: r}
	}
}

func (p *parser) parseNot() (node, error) {
	t, ok := p.peek()
	if ok && t.text == "not" {
		p.i++
		x, err := p.parseNot()
		if err != nil {
			return nil, err
		}
		return notNode{x}, nil
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() (node, error) {
	t, ok := p.peek()
	if !ok {
		return nil, p.errEnd("unexpected end of expression, expected a matcher")
	}
	switch t.text {
	case "and", "or", ")":
		return nil, p.errAt(t, fmt.Sprintf("unexpected %q, expected a matcher", t.text))
	case "(":
		p.i++
		n, err := p.parseOr()
		if err != nil {
			return nil, err
		}
		c, ok := p.peek()
		if !ok {
			return nil, p.errAt(t, "unclosed \"(\"")
		}
		if c.text != ")" {
			return nil, p.errAt(c, fmt.Sprintf("expected \"and\", \"or\" or \")\" before %q", c.text))
		}
		p.i++
		return n, nil
	}
	p.i++
	eng, delim, pattern, _ := splitEngine(t.text)
	l, err := newLeaf(eng, delim, pattern)
	if err != nil {
		return nil, p.errAt(t, fmt.Sprintf("%s: %v", t.text, err))
	}
	return l, nil
}
