// Package docgen generates the state-function reference (docs/states.md)
// from the modules' FuncSpecs, the same specs that validate every state
// before it runs, so the reference cannot drift from what statectl
// enforces.
//
// The reference is a hand-written Markdown file holding generated blocks:
//
//	<!-- BEGIN GENERATED incus.cluster_enabled -->
//	...replaced on every update...
//	<!-- END GENERATED incus.cluster_enabled -->
//
// Text outside the blocks (introductions, per-function notes) is kept as
// written. The test in this package fails when the file is out of date;
// `go test ./runner/docgen -update` rewrites it.
package docgen

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/statectl/statectl/runner/module"
)

// IndexBlock is the name of the block holding the table of all functions.
const IndexBlock = "index"

// Block is one generated block: its name and its Markdown body.
type Block struct {
	Name string
	Body string
}

// Blocks returns the generated blocks for mods: the index, then one block
// per function, in module order and each module's documentation order.
func Blocks(mods ...module.Module) []Block {
	out := []Block{{Name: IndexBlock, Body: Index(mods...)}}
	for _, m := range mods {
		for _, f := range m.Functions() {
			out = append(out, Block{Name: m.Name() + "." + f.Name, Body: Function(m.Name(), f)})
		}
	}
	return out
}

// Index returns a table of every function of mods with the first sentence
// of its documentation, each linking to its section.
func Index(mods ...module.Module) string {
	var b strings.Builder
	b.WriteString("| Function | Summary |\n|---|---|\n")
	for _, m := range mods {
		for _, f := range m.Functions() {
			full := m.Name() + "." + f.Name
			fmt.Fprintf(&b, "| [`%s`](#%s) | %s |\n", full, Anchor("`"+full+"`"), cell(firstSentence(f.Doc)))
		}
	}
	return b.String()
}

// Function returns the reference section of one function: heading,
// documentation and argument table.
func Function(mod string, f module.FuncSpec) string {
	var b strings.Builder
	fmt.Fprintf(&b, "### `%s.%s`\n\n", mod, f.Name)
	if doc := strings.TrimSpace(f.Doc); doc != "" {
		b.WriteString(doc + "\n\n")
	}
	if len(f.Args) == 0 {
		b.WriteString("No arguments.\n")
		return b.String()
	}
	b.WriteString("| Argument | Type | Required | Default | Secret | Description |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, a := range f.Args {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s |\n",
			a.Name, typeName(a.Type), yes(a.Required), defaultValue(a.Default), yes(a.Secret), cell(a.Doc))
	}
	return b.String()
}

// typeName is how an argument type reads in the reference.
func typeName(t module.ArgType) string {
	switch t {
	case module.TypeStringList:
		return "string or list of strings"
	case "":
		return string(module.TypeAny)
	}
	return string(t)
}

func yes(b bool) string {
	if b {
		return "yes"
	}
	return ""
}

// defaultValue renders a schema default as it would be written in YAML
// flow style (JSON is a subset); no default is an empty cell.
func defaultValue(v any) string {
	if v == nil {
		return ""
	}
	data, err := json.Marshal(v)
	if err != nil {
		return cell(fmt.Sprint(v))
	}
	return "`" + cell(string(data)) + "`"
}

// cell makes text safe inside a Markdown table cell: one line, pipes
// escaped.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.ReplaceAll(s, "|", `\|`)
}

// firstSentence is the text up to the first ". " that ends a sentence,
// period included.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '.' && s[i+1] == ' ' && (isUpper(s[i+2]) || s[i+2] == '`') {
			return s[:i+1]
		}
	}
	return s
}

func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }

// Anchor is the fragment GitHub derives from a heading: lower case, spaces
// to hyphens, punctuation other than - and _ dropped.
func Anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(heading)) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r > 127:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// marker matches one BEGIN or END line; the name is a function
// (module.function) or IndexBlock.
var marker = regexp.MustCompile(`(?m)^<!-- (BEGIN|END) GENERATED ([A-Za-z0-9_.-]+)(?: [^>]*)? -->[ \t]*$`)

// Begin and End are the marker lines of block name. Begin carries the
// command that regenerates it, for whoever opens the file.
func Begin(name string) string {
	return "<!-- BEGIN GENERATED " + name + " (go test ./runner/docgen -update) -->"
}

// End is the closing marker of block name.
func End(name string) string { return "<!-- END GENERATED " + name + " -->" }

// Update returns doc with the body of every block replaced by the current
// one. Blocks doc lacks are appended at its end, so a new function shows
// up and can be moved to its place by hand. A block in doc that is not in
// blocks (a removed or renamed function) is an error: its hand-written
// notes need a human decision.
func Update(doc string, blocks []Block) (string, error) {
	want := make(map[string]string, len(blocks))
	for _, bl := range blocks {
		want[bl.Name] = strings.TrimRight(bl.Body, "\n") + "\n"
	}
	locs := marker.FindAllStringSubmatchIndex(doc, -1)
	var b strings.Builder
	seen := map[string]bool{}
	last := 0
	for i := 0; i < len(locs); i += 2 {
		begin := locs[i]
		kind, name := doc[begin[2]:begin[3]], doc[begin[4]:begin[5]]
		line := 1 + strings.Count(doc[:begin[0]], "\n")
		if kind != "BEGIN" {
			return "", fmt.Errorf("line %d: END GENERATED %s without a BEGIN", line, name)
		}
		if i+1 >= len(locs) {
			return "", fmt.Errorf("line %d: BEGIN GENERATED %s is never closed", line, name)
		}
		end := locs[i+1]
		if ek, en := doc[end[2]:end[3]], doc[end[4]:end[5]]; ek != "END" || en != name {
			return "", fmt.Errorf("line %d: BEGIN GENERATED %s is followed by %s GENERATED %s, want its END", line, name, ek, en)
		}
		if seen[name] {
			return "", fmt.Errorf("line %d: block %s appears twice", line, name)
		}
		seen[name] = true
		body, ok := want[name]
		if !ok {
			return "", fmt.Errorf("line %d: block %s documents a function no module has: delete its section and notes, or rename it", line, name)
		}
		b.WriteString(doc[last:begin[0]])
		b.WriteString(Begin(name) + "\n" + body + End(name))
		last = end[1]
	}
	b.WriteString(doc[last:])
	for _, bl := range blocks {
		if seen[bl.Name] {
			continue
		}
		out := strings.TrimRight(b.String(), "\n")
		b.Reset()
		b.WriteString(out + "\n\n" + Begin(bl.Name) + "\n" + want[bl.Name] + End(bl.Name) + "\n")
	}
	return b.String(), nil
}
