package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestPlugins(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	tests := []struct {
		name     string
		file     string
		want     map[string]string
		settings int
		wantErr  string
	}{
		{name: "pin", file: "out: json\nplugins:\n  file:\n    sha256: " + sum + "\n",
			want: map[string]string{"file": sum}, settings: 1},
		{name: "no pin", file: "plugins:\n  file: {}\n", want: map[string]string{}},
		{name: "empty", file: "plugins:\n", want: map[string]string{}},
		{name: "not a mapping", file: "plugins: [file]\n",
			wantErr: "failed to parse statectl.yaml: line 1: plugins: must map plugin (module) names to settings"},
		{name: "entry not a mapping", file: "plugins:\n  file: abc\n",
			wantErr: "failed to parse statectl.yaml: line 2: plugins: file: must be a mapping such as {sha256: ...}"},
		{name: "bad sum", file: "plugins:\n  file:\n    sha256: abc\n",
			wantErr: "failed to parse statectl.yaml: line 3: plugins: file: sha256 must be 64 hex digits"},
		{name: "unknown key", file: "plugins:\n  file:\n    sha512: abc\n",
			wantErr: `failed to parse statectl.yaml: line 3: plugins: file: unknown key "sha512" (known: sha256)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := Parse("statectl.yaml", []byte(tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := f.PluginPins(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("pins = %v, want %v", got, tt.want)
			}
			if len(f.Settings) != tt.settings {
				t.Errorf("settings = %v: plugins must not be a flag setting", f.Settings)
			}
			// The plugins key must not reach the flags.
			if err := f.Apply(flags()); err != nil {
				t.Errorf("apply: %v", err)
			}
		})
	}
}
