package render

// Every use of gonja's unexported internals is in this file, so a gonja
// upgrade has one place to check; TestGonjaInternals fails loudly when one
// of them no longer holds. Everything else in the package uses gonja's
// exported API only.

import (
	"fmt"
	"reflect"
	"strings"
	"unsafe"

	controlStructures "github.com/nikolalohinski/gonja/v2/builtins/control_structures"
	"github.com/nikolalohinski/gonja/v2/exec"
	"github.com/nikolalohinski/gonja/v2/nodes"
)

// ownVars reads the variables set in ctx itself, not its parents. gonja
// keeps them unexported and offers no listing.
// A gonja upgrade that renames or retypes the field makes this panic (the
// render reports "template engine crashed") and TestGonjaInternals fail,
// rather than every import silently exporting nothing.
func ownVars(ctx *exec.Context) map[string]any {
	f := reflect.ValueOf(ctx).Elem().FieldByName(contextDataField)
	if !f.IsValid() || f.Type() != reflect.TypeFor[map[string]any]() {
		panic(fmt.Sprintf("gonja internals changed: exec.Context has no field %q of type map[string]any (see gonjainternals.go)", contextDataField))
	}
	return reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Interface().(map[string]any)
}

// contextDataField is exec.Context's unexported variable map.
const contextDataField = "data"

// adaptTree rewrites a parsed template's tree in place (see rewriteTree).
func adaptTree(root *nodes.Template) { rewriteTree(reflect.ValueOf(root), map[uintptr]bool{}) }

// rewriteTree adapts a parsed template to Jinja2 semantics without
// touching gonja: every printed expression goes through "__finalize"
// (Python's str(), as Salt's finalizer), every list, tuple and dict
// literal through a filter that makes it a Python-like container, and
// every for loop's iterable through "__iter" (dicts in insertion order). gonja's
// control structures keep their expressions in unexported fields, so the
// walk uses reflection over all fields of gonja's node types.
func rewriteTree(v reflect.Value, seen map[uintptr]bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() || !isGonjaType(v.Type().Elem()) {
			return
		}
		if seen[v.Pointer()] {
			return
		}
		seen[v.Pointer()] = true
		switch n := v.Interface().(type) {
		case *nodes.Output:
			n.Expression = wrapFilter(n.Expression, "__finalize")
			if n.Alternative != nil {
				n.Alternative = wrapFilter(n.Alternative, "__finalize")
			}
		case *controlStructures.ForControlStructure:
			// gonja iterates a map in sorted key order; "__iter" makes a
			// dict its keys in insertion order, as Python iterates it.
			n.ObjectEvaluator = wrapFilter(n.ObjectEvaluator, "__iter")
		}
		rewriteTree(v.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			f := v.Field(i)
			if !f.CanSet() {
				if !f.CanAddr() {
					continue
				}
				f = reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem()
			}
			rewriteField(f, seen)
		}
	}
}

var exprType = reflect.TypeFor[nodes.Expression]()
var nodeType = reflect.TypeFor[nodes.Node]()

func rewriteField(f reflect.Value, seen map[uintptr]bool) {
	switch f.Kind() {
	case reflect.Interface:
		if f.IsNil() {
			return
		}
		inner := f.Elem()
		rewriteTree(inner, seen)
		if f.Type() == exprType || f.Type() == nodeType || f.Type() == reflect.TypeFor[nodes.ControlStructure]() {
			if n, ok := inner.Interface().(nodes.Expression); ok {
				if w := wrapLiteral(n); w != n {
					f.Set(reflect.ValueOf(w))
				}
			}
		}
	case reflect.Pointer:
		rewriteTree(f, seen)
	case reflect.Slice:
		for i := 0; i < f.Len(); i++ {
			rewriteField(f.Index(i), seen)
		}
	case reflect.Map:
		it := f.MapRange()
		for it.Next() {
			val := it.Value()
			if val.Kind() == reflect.Interface && !val.IsNil() {
				rewriteTree(val.Elem(), seen)
				if n, ok := val.Interface().(nodes.Expression); ok {
					if w := wrapLiteral(n); w != n {
						f.SetMapIndex(it.Key(), reflect.ValueOf(w))
					}
				}
			} else if val.Kind() == reflect.Pointer {
				rewriteTree(val, seen)
			}
		}
	case reflect.Struct:
		rewriteTree(f, seen)
	}
}

func isGonjaType(t reflect.Type) bool {
	p := t.PkgPath()
	return strings.HasPrefix(p, "github.com/nikolalohinski/gonja/v2/nodes") ||
		strings.HasPrefix(p, "github.com/nikolalohinski/gonja/v2/builtins") ||
		p == reflect.TypeFor[loadTag]().PkgPath()
}
