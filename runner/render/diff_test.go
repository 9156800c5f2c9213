package render

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The differential test renders every testdata/render/corpus/**/*.sls with
// this package and with Python's Jinja2 set up as Salt sets it up
// (testdata/render/jinja_ref.py), and requires the same rendered text and
// the same loaded data. A corpus file containing the comment
// {# diff: data-only #} compares the loaded data only.

const (
	corpusDir   = "../../testdata/render/corpus"
	contextFile = "../../testdata/render/context.json"
	refScript   = "../../testdata/render/jinja_ref.py"
)

// findPython returns a python3 that can import jinja2 and yaml.
func findPython(t testing.TB) string {
	t.Helper()
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		p, err := exec.LookPath(py)
		if err != nil {
			continue
		}
		if exec.Command(p, "-c", "import jinja2, yaml").Run() == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no python3 with jinja2 and yaml found; the differential test cannot run (install python3-jinja2 python3-yaml)")
	}
	t.Skip("no python3 with jinja2 and yaml found")
	return ""
}

type refResult struct {
	Text  *string         `json:"text"`
	Data  json.RawMessage `json:"data"`
	Error *string         `json:"error"`
}

// loadContext reads the shared context JSON with numbers as int or float64.
func loadContext(t testing.TB) map[string]map[string]any {
	t.Helper()
	raw, err := os.ReadFile(contextFile)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]any{}
	for k, x := range v {
		out[k] = numbers(x).(map[string]any)
	}
	return out
}

// loadContextOrder reads the key order of the shared context JSON, so
// pillar and grains iterate in file order as Python's json.load gives them.
func loadContextOrder(t testing.TB) *KeyOrder {
	t.Helper()
	raw, err := os.ReadFile(contextFile)
	if err != nil {
		t.Fatal(err)
	}
	n, err := parseJSON(contextFile, "", raw)
	if err != nil {
		t.Fatal(err)
	}
	o := NodeOrder(n)
	if o == nil {
		t.Fatal("context JSON has no key order")
	}
	return o
}

func numbers(x any) any {
	switch v := x.(type) {
	case json.Number:
		if !strings.ContainsAny(v.String(), ".eE") {
			if i, err := v.Int64(); err == nil {
				return int(i)
			}
		}
		f, _ := v.Float64()
		return f
	case map[string]any:
		if f, ok := v["__float__"].(string); ok && len(v) == 1 {
			// inf and nan, which JSON cannot carry.
			switch f {
			case "inf":
				return math.Inf(1)
			case "-inf":
				return math.Inf(-1)
			}
			return math.NaN()
		}
		for k, e := range v {
			v[k] = numbers(e)
		}
		return v
	case []any:
		for i, e := range v {
			v[i] = numbers(e)
		}
		return v
	}
	return x
}

func corpusFiles(t testing.TB) []string {
	t.Helper()
	var files []string
	err := filepath.WalkDir(corpusDir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".sls") {
			rel, _ := filepath.Rel(corpusDir, p)
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func slsName(rel string) string {
	s := strings.TrimSuffix(rel, ".sls")
	s = strings.TrimSuffix(s, "/init")
	return strings.ReplaceAll(s, "/", ".")
}

func TestDifferentialAgainstJinja2(t *testing.T) {
	py := findPython(t)
	out, err := exec.Command(py, refScript, corpusDir, contextFile).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("reference renderer failed: %v\n%s", err, ee.Stderr)
		}
		t.Fatal(err)
	}
	var ref map[string]refResult
	if err := json.Unmarshal(out, &ref); err != nil {
		t.Fatal(err)
	}
	files := corpusFiles(t)
	if len(files) < 30 {
		t.Errorf("corpus has %d files, want at least 30", len(files))
	}
	c := loadContext(t)
	order := loadContextOrder(t)
	r := New(corpusDir)
	for _, rel := range files {
		t.Run(rel, func(t *testing.T) {
			want, ok := ref[rel]
			if !ok {
				t.Fatalf("reference has no result for %s", rel)
			}
			src, err := os.ReadFile(filepath.Join(corpusDir, rel))
			if err != nil {
				t.Fatal(err)
			}
			ctx := &Context{Grains: c["grains"], Pillar: c["pillar"], Opts: c["opts"], SLS: slsName(rel),
				GrainsOrder: order.Field("grains"), PillarOrder: order.Field("pillar")}
			text, terr := r.RenderString(rel, src, ctx)
			node, derr := r.RenderFile(rel, ctx)
			if want.Error != nil {
				if terr == nil && derr == nil {
					t.Fatalf("Jinja2 fails (%s) but statectl renders:\n%s", *want.Error, text)
				}
				return
			}
			if terr != nil {
				t.Fatalf("template stage failed, Jinja2 did not: %v", terr)
			}
			if !bytes.Contains(src, []byte("{# diff: data-only #}")) && string(text) != *want.Text {
				t.Errorf("rendered text differs\n--- statectl\n%s\n--- jinja2\n%s", text, *want.Text)
			}
			if derr != nil {
				t.Fatalf("render failed, Jinja2+PyYAML did not: %v", derr)
			}
			got, err := ToValue(node)
			if err != nil {
				t.Fatal(err)
			}
			if got == nil {
				got = map[string]any{}
			}
			var wantData any
			dec := json.NewDecoder(bytes.NewReader(want.Data))
			dec.UseNumber()
			if err := dec.Decode(&wantData); err != nil {
				t.Fatal(err)
			}
			wantData = numbers(wantData)
			if !reflect.DeepEqual(got, wantData) {
				gj, _ := json.MarshalIndent(got, "", " ")
				wj, _ := json.MarshalIndent(wantData, "", " ")
				t.Errorf("loaded data differs\n--- statectl\n%s\n--- jinja2+pyyaml\n%s", gj, wj)
			}
		})
	}
}
