package docgen

import (
	"os"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/diff"

	"github.com/statectl/statectl/runner/golden"
	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/modules/cmd"
	"github.com/statectl/statectl/runner/modules/incus"
	"github.com/statectl/statectl/runner/modules/testmod"
)

const statesDoc = "../../docs/states.md"

// builtins are the modules every statectl binary has, in reference order.
func builtins() []module.Module {
	return []module.Module{incus.New(nil, incusconn.Options{}), cmd.New(), testmod.New()}
}

// TestStatesReference fails when docs/states.md does not match the
// built-in modules' specs; -update rewrites it, keeping the notes.
func TestStatesReference(t *testing.T) {
	old, err := os.ReadFile(statesDoc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Update(string(old), Blocks(builtins()...))
	if err != nil {
		t.Fatalf("%s: %v", statesDoc, err)
	}
	if got == string(old) {
		return
	}
	if golden.Update() {
		if err := os.WriteFile(statesDoc, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("rewrote %s", statesDoc)
		return
	}
	t.Errorf("docs/states.md is out of date with the modules' FuncSpecs; run: go test ./runner/docgen -update\n%s",
		diff.Diff("docs/states.md", old, "generated", []byte(got)))
}

// TestSpecsDocumented holds the built-in modules to what the reference
// needs: every function and argument has a doc, argument names are unique
// and types are known.
func TestSpecsDocumented(t *testing.T) {
	known := map[module.ArgType]bool{module.TypeAny: true, module.TypeString: true, module.TypeBool: true,
		module.TypeInt: true, module.TypeList: true, module.TypeMap: true, module.TypeStringList: true}
	for _, m := range builtins() {
		fns := map[string]bool{}
		for _, f := range m.Functions() {
			full := m.Name() + "." + f.Name
			if fns[f.Name] {
				t.Errorf("%s is listed twice", full)
			}
			fns[f.Name] = true
			if strings.TrimSpace(f.Doc) == "" {
				t.Errorf("%s has no doc", full)
			}
			args := map[string]bool{}
			for _, a := range f.Args {
				if args[a.Name] {
					t.Errorf("%s: argument %s is listed twice", full, a.Name)
				}
				args[a.Name] = true
				if strings.TrimSpace(a.Doc) == "" {
					t.Errorf("%s: argument %s has no doc", full, a.Name)
				}
				if !known[a.Type] {
					t.Errorf("%s: argument %s has unknown type %q", full, a.Name, a.Type)
				}
				if a.Required && a.Default != nil {
					t.Errorf("%s: argument %s is required and has a default", full, a.Name)
				}
			}
		}
	}
}

func TestFunction(t *testing.T) {
	tests := []struct {
		name string
		f    module.FuncSpec
		want string
	}{
		{
			name: "no args",
			f:    module.FuncSpec{Name: "nop", Doc: "Does nothing."},
			want: "### `m.nop`\n\nDoes nothing.\n\nNo arguments.\n",
		},
		{
			name: "table",
			f: module.FuncSpec{Name: "f", Doc: "  Doc.  ", Args: []module.ArgSpec{
				{Name: "name", Type: module.TypeString, Required: true, Doc: "The name."},
				{Name: "force", Type: module.TypeBool, Default: false, Doc: "Force\n  it."},
				{Name: "token", Type: module.TypeString, Secret: true, Doc: "a|b"},
				{Name: "hosts", Type: module.TypeStringList, Default: []string{"a"}, Doc: "Hosts."},
				{Name: "x", Doc: "Untyped."},
			}},
			want: "### `m.f`\n\nDoc.\n\n" +
				"| Argument | Type | Required | Default | Secret | Description |\n" +
				"|---|---|---|---|---|---|\n" +
				"| `name` | string | yes |  |  | The name. |\n" +
				"| `force` | bool |  | `false` |  | Force it. |\n" +
				"| `token` | string |  |  | yes | a\\|b |\n" +
				"| `hosts` | string or list of strings |  | `[\"a\"]` |  | Hosts. |\n" +
				"| `x` | any |  |  |  | Untyped. |\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Function("m", tt.f); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestIndexAndAnchor(t *testing.T) {
	got := Index(testmod.New())
	for _, want := range []string{
		"| [`test.nop`](#testnop) | Does nothing and succeeds without changes. |",
		"| [`test.show_notification`](#testshow_notification) |",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("index lacks %q:\n%s", want, got)
		}
	}
	for in, want := range map[string]string{
		"`incus.cluster_enabled`": "incuscluster_enabled",
		"Exit codes and CI":       "exit-codes-and-ci",
		"What is `--test`?":       "what-is---test",
	} {
		if got := Anchor(in); got != want {
			t.Errorf("Anchor(%q) = %q, want %q", in, got, want)
		}
	}
	if got := firstSentence("Ensure x. Then e.g. y. More."); got != "Ensure x." {
		t.Errorf("firstSentence = %q", got)
	}
	if got := firstSentence("Use e.g. this one"); got != "Use e.g. this one" {
		t.Errorf("firstSentence = %q", got)
	}
}

func TestUpdate(t *testing.T) {
	blocks := []Block{{Name: "index", Body: "I2\n"}, {Name: "m.a", Body: "A2"}, {Name: "m.b", Body: "B2\n"}}
	blk := func(name, body string) string { return Begin(name) + "\n" + body + End(name) }
	tests := []struct {
		name    string
		doc     string
		want    string
		wantErr string
	}{
		{
			name: "replaces bodies and keeps notes",
			doc: "# Ref\n" + blk("index", "old\n") + "\n\n" + blk("m.a", "old a\nmore\n") + "\n\nNotes on a.\n\n" +
				"<!-- BEGIN GENERATED m.b -->\nold b\n<!-- END GENERATED m.b -->\nNotes on b.\n",
			want: "# Ref\n" + blk("index", "I2\n") + "\n\n" + blk("m.a", "A2\n") + "\n\nNotes on a.\n\n" +
				blk("m.b", "B2\n") + "\nNotes on b.\n",
		},
		{
			name: "appends missing blocks in order",
			doc:  "# Ref\n" + blk("m.a", "A2\n") + "\n",
			want: "# Ref\n" + blk("m.a", "A2\n") + "\n\n" + blk("index", "I2\n") + "\n\n" + blk("m.b", "B2\n") + "\n",
		},
		{
			name: "up to date is unchanged",
			doc:  blk("index", "I2\n") + "\n" + blk("m.a", "A2\n") + "\nN\n" + blk("m.b", "B2\n") + "\n",
			want: blk("index", "I2\n") + "\n" + blk("m.a", "A2\n") + "\nN\n" + blk("m.b", "B2\n") + "\n",
		},
		{
			name:    "stale function",
			doc:     blk("index", "") + "\n" + blk("m.gone", "x\n") + "\n",
			wantErr: "line 3: block m.gone documents a function no module has",
		},
		{
			name:    "never closed",
			doc:     "x\n" + Begin("m.a") + "\nbody\n",
			wantErr: "line 2: BEGIN GENERATED m.a is never closed",
		},
		{
			name:    "end without begin",
			doc:     End("m.a") + "\n",
			wantErr: "line 1: END GENERATED m.a without a BEGIN",
		},
		{
			name:    "crossed blocks",
			doc:     Begin("m.a") + "\n" + Begin("m.b") + "\n" + End("m.b") + "\n" + End("m.a") + "\n",
			wantErr: "BEGIN GENERATED m.a is followed by BEGIN GENERATED m.b",
		},
		{
			name:    "duplicate",
			doc:     blk("m.a", "") + "\n" + blk("m.a", "") + "\n",
			wantErr: "block m.a appears twice",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Update(tt.doc, blocks)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}
