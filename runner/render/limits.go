package render

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/nikolalohinski/gonja/v2/builtins"
	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
	"github.com/nikolalohinski/gonja/v2/parser"
)

// Limits that keep a hostile or mistaken template (an untrusted pull
// request rendered in CI, a recursive macro) from crashing the process or
// taking gigabytes: each ends the render with an error naming file and
// line. The figures are far above what a state or pillar tree needs.
const (
	// maxRange is Jinja2's sandbox MAX_RANGE.
	maxRange = 100_000
	// maxMacroDepth bounds nested macro calls (Python stops near 1,000
	// frames; a macro takes several).
	maxMacroDepth = 200
	// maxOutput bounds what one template render produces.
	maxOutput = 16 << 20
	// maxYAMLNodes bounds the nodes a YAML document expands to once
	// aliases are followed (a billion-laughs bomb expands exponentially).
	maxYAMLNodes = 1_000_000
)

var errOutputLimit = fmt.Errorf("rendered output is larger than %d MiB", maxOutput>>20)

// limitedRange is Python's range() refusing more than maxRange items, as
// Jinja2's sandbox does; gonja's own range is then used for the values.
func limitedRange(e *exec.Evaluator, params *exec.VarArgs) (<-chan int, error) {
	start, stop, step := 0, 0, 1
	ints := true
	for _, a := range params.Args {
		ints = ints && a.IsInteger()
	}
	if ints {
		switch len(params.Args) {
		case 1:
			stop = params.Args[0].Integer()
		case 2, 3:
			start, stop = params.Args[0].Integer(), params.Args[1].Integer()
			if len(params.Args) == 3 {
				step = params.Args[2].Integer()
			}
		}
		n := 0
		if step > 0 && stop > start {
			n = (stop - start + step - 1) / step
		} else if step < 0 && stop < start {
			n = (start - stop - step - 1) / -step
		}
		if n > maxRange {
			return nil, fmt.Errorf("range too big: %d items (the limit is %d, as in Jinja2's sandbox)", n, maxRange)
		}
	}
	v, _ := builtins.GlobalFunctions.Get("range")
	return v.(func(*exec.Evaluator, *exec.VarArgs) (<-chan int, error))(e, params)
}

// limitedWriter fails once more than n bytes were written.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		l.n = -1
		return 0, errOutputLimit
	}
	l.n -= len(p)
	return l.w.Write(p)
}

// parseMacro is gonja's macro tag with the macro's calls counted: beyond
// maxMacroDepth nested calls the call returns an error instead of
// recursing until the Go stack overflows.
func parseMacro(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	inner, _ := builtins.ControlStructures.Get("macro")
	cs, err := inner(p, args)
	if err != nil {
		return nil, err
	}
	return &macroTag{ControlStructure: cs}, nil
}

type macroTag struct{ nodes.ControlStructure }

const errMacroDepth = "called itself (or others) more than"

type macroDepthError struct{ msg string }

func (e *macroDepthError) Error() string { return e.msg }

type executor interface {
	Execute(*exec.Renderer, *nodes.ControlStructureBlock) error
}

func (m *macroTag) Execute(r *exec.Renderer, tag *nodes.ControlStructureBlock) error {
	ex, ok := m.ControlStructure.(executor)
	if !ok {
		return errors.New("gonja's macro tag cannot be executed")
	}
	if err := ex.Execute(r, tag); err != nil {
		return err
	}
	mcs, ok := m.ControlStructure.(*controlStructures.MacroControlStructure)
	if !ok {
		return errors.New("gonja's macro tag changed type")
	}
	name := mcs.Name
	v, ok := r.Environment.Context.Get(name)
	fn, isMacro := v.(exec.Macro)
	if !ok || !isMacro {
		return fmt.Errorf("macro %q was not defined by gonja's macro tag", name)
	}
	st, _ := stateOf(r)
	r.Environment.Context.Set(name, exec.Macro(func(params *exec.VarArgs) *exec.Value {
		if st == nil {
			return fn(params)
		}
		if st.macroDepth >= maxMacroDepth {
			return exec.AsValue(&macroDepthError{fmt.Sprintf("macro %q called itself (or others) more than %d deep", name, maxMacroDepth)})
		}
		st.macroDepth++
		defer func() { st.macroDepth-- }()
		v := fn(params)
		// gonja wraps the error once per level; report it once.
		if v.IsError() && strings.Contains(v.Error(), errMacroDepth) {
			return exec.AsValue(&macroDepthError{v.Error()[strings.LastIndex(v.Error(), "macro "):]})
		}
		return v
	}))
	return nil
}

// parseExtends is gonja's extends tag with a parent chain that is too
// deep (a template extending itself) reported once, at the top file's
// extends line, instead of once per level.
func parseExtends(p *parser.Parser, args *parser.Parser) (nodes.ControlStructure, error) {
	inner, _ := builtins.ControlStructures.Get("extends")
	tok := args.Current()
	cs, err := inner(p, args)
	if err != nil && strings.Contains(err.Error(), errExtendsDepth) {
		return nil, args.Error(fmt.Sprintf("%s (does a template extend itself?)", errExtendsDepth), tok)
	}
	return cs, err
}

const errExtendsDepth = "templates extend each other more than 32 deep"
