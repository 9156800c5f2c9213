package cmd

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/statectl/statectl/runner/module"
)

func call(args map[string]any) *module.Call {
	return &module.Call{ID: "c", Function: "run", Name: str(args["name"]), Args: args}
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	exists := filepath.Join(dir, "exists")
	if err := os.WriteFile(exists, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name        string
		args        map[string]any
		failed      bool
		ran         bool
		comment     string
		stdout      string
		notInOutput string
	}{
		{name: "success", args: map[string]any{"name": "echo hi"}, ran: true, comment: `Command "echo hi" run`, stdout: "hi"},
		{name: "failure", args: map[string]any{"name": "exit 3"}, failed: true, ran: true},
		{name: "success_retcodes", args: map[string]any{"name": "exit 3", "success_retcodes": []any{3}}, ran: true},
		{name: "cwd", args: map[string]any{"name": "pwd", "cwd": dir}, ran: true, stdout: dir},
		{name: "env map", args: map[string]any{"name": "echo $A", "env": map[string]any{"A": "x1"}}, ran: true, stdout: "x1"},
		{name: "env list", args: map[string]any{"name": "echo $A$B", "env": []any{map[string]any{"A": "x"}, map[string]any{"B": 2}}}, ran: true, stdout: "x2"},
		{name: "secret env masked", args: map[string]any{"name": "echo $API_TOKEN", "env": map[string]any{"API_TOKEN": "s3cr3t-value"}}, ran: true, stdout: "******", notInOutput: "s3cr3t-value"},
		{name: "onlyif false", args: map[string]any{"name": "echo no", "onlyif": "false"}, comment: "onlyif condition is false"},
		{name: "onlyif true", args: map[string]any{"name": "echo yes", "onlyif": []any{"true", "test -e " + exists}}, ran: true, stdout: "yes"},
		{name: "unless true", args: map[string]any{"name": "echo no", "unless": "true"}, comment: "unless condition is true"},
		{name: "unless false", args: map[string]any{"name": "echo yes", "unless": "false"}, ran: true, stdout: "yes"},
		{name: "timeout", args: map[string]any{"name": "sleep 30", "timeout": 1}, failed: true, ran: true, comment: "timed out after 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := call(tt.args)
			if err := (Module{}).Validate(c); err != nil {
				t.Fatal(err)
			}
			p, err := Module{}.Plan(context.Background(), c)
			if err != nil || p.Action != module.Create {
				t.Fatalf("plan: %+v, %v", p, err)
			}
			o, err := Module{}.Apply(context.Background(), c, p)
			if err != nil {
				t.Fatal(err)
			}
			if o.Failed != tt.failed || (o.Changes != nil) != tt.ran || !strings.Contains(o.Comment, tt.comment) {
				t.Fatalf("outcome %+v; want failed=%v ran=%v comment~%q", o, tt.failed, tt.ran, tt.comment)
			}
			if tt.stdout != "" && o.Changes["stdout"] != tt.stdout {
				t.Fatalf("stdout %q, want %q", o.Changes["stdout"], tt.stdout)
			}
			if tt.notInOutput != "" && strings.Contains(strings.Join([]string{o.Comment, str(o.Changes["stdout"]), str(o.Changes["stderr"])}, " "), tt.notInOutput) {
				t.Fatalf("secret in outcome: %+v", o)
			}
		})
	}
}

// The plan runs nothing: test mode and saved plans never execute a
// command, not even onlyif/unless. creates is a file test and counts.
func TestPlanRunsNothing(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "ran")
	c := call(map[string]any{"name": "touch " + marker, "onlyif": "touch " + marker, "unless": "touch " + marker})
	p, err := Module{}.Plan(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the plan ran a command")
	}
	if !strings.Contains(p.Comment, "would have been executed") || !strings.Contains(p.Comment, "not run in test mode") || p.Changes["cmd"] == nil {
		t.Fatalf("plan %+v", p)
	}
	if err := os.WriteFile(marker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	p, err = Module{}.Plan(context.Background(), call(map[string]any{"name": "false", "creates": marker}))
	if err != nil || p.Changes != nil || p.Comment != "All files in creates exist" {
		t.Fatalf("creates: %+v, %v", p, err)
	}
}

func TestInterruptStopsCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	time.AfterFunc(300*time.Millisecond, cancel)
	start := time.Now()
	o, err := Module{}.Apply(ctx, call(map[string]any{"name": "sleep 30"}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !o.Failed || !strings.Contains(o.Comment, "interrupted") || time.Since(start) > 5*time.Second {
		t.Fatalf("outcome %+v after %s", o, time.Since(start))
	}
}

func TestValidate(t *testing.T) {
	tests := map[string]map[string]any{
		"empty":       {"name": " "},
		"bad env":     {"name": "x", "env": "A=1"},
		"bad env key": {"name": "x", "env": map[string]any{"A=B": "1"}},
		"bad timeout": {"name": "x", "timeout": 0},
		"bad retcode": {"name": "x", "success_retcodes": []any{"x"}},
	}
	for name, args := range tests {
		if err := (Module{}).Validate(call(args)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
