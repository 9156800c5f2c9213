package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

func flags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("statectl", pflag.ContinueOnError)
	fs.String("states", "./states", "")
	fs.String("out", "human", "")
	fs.Bool("test", false, "")
	fs.Int("retries", 0, "")
	fs.String("pillar-override", "", "")
	fs.String("config", DefaultFile, "")
	return fs
}

func TestApply(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		args    []string
		want    map[string]string
		wantErr string
	}{
		{name: "empty", file: "", want: map[string]string{"states": "./states", "test": "false"}},
		{name: "only comments", file: "# nothing\n", want: map[string]string{"out": "human"}},
		{name: "defaults", file: "states: srv/states\ntest: true\nout: json\n",
			want: map[string]string{"states": "srv/states", "test": "true", "out": "json"}},
		{name: "command line wins", file: "out: json\ntest: true\n", args: []string{"--out=yaml"},
			want: map[string]string{"out": "yaml", "test": "true"}},
		{name: "mapping as json", file: "pillar-override:\n  incus:\n    a: 1\n",
			want: map[string]string{"pillar-override": `{"incus":{"a":1}}`}},
		{name: "unknown key", file: "states: x\n\nstate: terse\n",
			wantErr: `statectl.yaml:3: unknown key "state" (known: out, pillar-override, retries, states, test)`},
		{name: "salt spelling", file: "pillar_override: {}\n",
			wantErr: `statectl.yaml:1: unknown key "pillar_override" (did you mean "pillar-override"?)`},
		{name: "denied key", file: "config: other.yaml\n",
			wantErr: `statectl.yaml:1: unknown key "config"`},
		{name: "bad bool", file: "out: json\ntest: maybe\n",
			wantErr: `statectl.yaml:2: invalid value "maybe" for "test": want true or false`},
		{name: "bad int", file: "retries: many\n",
			wantErr: `statectl.yaml:1: invalid value "many" for "retries": want a whole number`},
		{name: "duplicate key", file: "out: json\nout: yaml\n",
			wantErr: `failed to parse statectl.yaml: line 2: key "out" already set on line 1`},
		{name: "not a mapping", file: "- states\n",
			wantErr: `failed to parse statectl.yaml: line 1: must be a mapping`},
		{name: "bad yaml", file: "states: [x\n",
			wantErr: `failed to parse statectl.yaml: yaml: line 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flags()
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			f, err := Parse("statectl.yaml", []byte(tt.file))
			if err == nil {
				err = f.Apply(fs, "config")
			}
			if tt.wantErr != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want prefix %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for k, want := range tt.want {
				if got := fs.Lookup(k).Value.String(); got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
		})
	}
}

func TestLoadMissing(t *testing.T) {
	f, err := Load(filepath.Join(t.TempDir(), DefaultFile))
	if err != nil || len(f.Settings) != 0 {
		t.Fatalf("Load(missing) = %v, %v; want empty file", f, err)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), DefaultFile)
	if err := os.WriteFile(path, []byte("out: yaml\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Settings) != 1 || f.Settings[0] != (Setting{Key: "out", Value: "yaml", Line: 1}) {
		t.Fatalf("settings = %+v", f.Settings)
	}
}

// TestRelativePaths: relative FILE and DIR values resolve against the
// directory of statectl.yaml, not the current directory; other values,
// absolute paths and "-" are kept.
func TestRelativePaths(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "proj")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, DefaultFile)
	body := "states: srv/states\nroster: ../roster.yaml\nlock-dir: /run/x\nlog-file: '-'\nout: json\npillar-override: a/b\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("statectl", pflag.ContinueOnError)
	fs.String("states", "./states", "state tree `DIR`")
	fs.String("roster", "./roster.yaml", "roster `FILE`")
	fs.String("lock-dir", "", "lock `DIR`")
	fs.String("log-file", "", "log `FILE`")
	fs.String("out", "", "output `FORMAT`")
	fs.String("pillar-override", "", "`JSON` object")
	if err := f.Apply(fs); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"states":          filepath.Join(dir, "srv/states"),
		"roster":          filepath.Join(filepath.Dir(dir), "roster.yaml"),
		"lock-dir":        "/run/x",
		"log-file":        "-",
		"out":             "json",
		"pillar-override": "a/b",
	}
	for k, v := range want {
		if got := fs.Lookup(k).Value.String(); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}
