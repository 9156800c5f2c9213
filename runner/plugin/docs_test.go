package plugin

import (
	"os"
	"strings"
	"testing"

	"github.com/statectl/statectl/runner/docgen"
	"github.com/statectl/statectl/runner/golden"
)

const pluginsDoc = "../../docs/plugins.md"

// TestPluginDocs checks the file module reference in docs/plugins.md
// against the FuncSpecs the plugin binary reports; -update rewrites it.
func TestPluginDocs(t *testing.T) {
	h := testHost(t, Options{}, "file")
	m, err := h.Resolve("file")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(pluginsDoc)
	if err != nil {
		t.Fatal(err)
	}
	got, err := docgen.Update(string(doc), docgen.Blocks(m))
	if err != nil {
		t.Fatalf("%s: %v", pluginsDoc, err)
	}
	// The markers name the command that regenerates this file.
	got = strings.ReplaceAll(got, "(go test ./runner/docgen -update)", "(go test ./runner/plugin -run TestPluginDocs -update)")
	if got == string(doc) {
		return
	}
	if golden.Update() {
		if err := os.WriteFile(pluginsDoc, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date with the file plugin's FuncSpecs; run: go test ./runner/plugin -run TestPluginDocs -update", pluginsDoc)
}
