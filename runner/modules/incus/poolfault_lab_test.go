package incus_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lxc/incus/v6/shared/api"

	"github.com/statectl/statectl/runner/module"
)

// stopped reports whether process pid is stopped (state T in /proc).
func stopped(pid int) bool {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// pid (comm) STATE ...: comm may hold spaces, the state follows ")".
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && len(s) > i+2 && s[i+2] == 'T'
}

// TestPoolCreateKilledBetweenPhases kills a `statectl apply` process
// (SIGKILL) at exact points of a two-phase pool create: the process stops
// itself before the step (STATECTL_TEST_HOLD_BEFORE), the test checks what
// Incus holds, kills it, and re-runs. Each time the re-run finishes the
// create (Created, every member's source) and a further run writes nothing.
func TestPoolCreateKilledBetweenPhases(t *testing.T) {
	t.Parallel()
	p := newProcEnv(t, 3, "")
	p.bootstrap("node2", "node3")
	c1 := p.client("node1")
	states := p.flags[1+indexOf(p.flags, "--states")]
	tests := []struct {
		hold    string
		pending []string // the locations the pool has when the process is killed
	}{
		{"pending:node2", []string{"node1"}},
		{"pending:node3", []string{"node1", "node2"}},
		{"create", []string{"node1", "node2", "node3"}}, // between the two phases
	}
	for i, tc := range tests {
		name := fmt.Sprintf("kill%d", i)
		dirs := memberDirs(t, "node1", "node2", "node3")
		members := map[string]any{}
		sls := name + ":\n  incus.storage_pool_present:\n    - driver: dir\n    - description: killed\n    - config: {rsync.bwlimit: \"10\"}\n    - members:\n"
		for _, n := range []string{"node1", "node2", "node3"} {
			sls += fmt.Sprintf("        %s: {source: %s}\n", n, dirs[n])
			members[n] = map[string]any{"source": dirs[n]}
		}
		if err := os.WriteFile(filepath.Join(states, name+".sls"), []byte(sls), 0o644); err != nil {
			t.Fatal(err)
		}
		run := func(hold string) *exec.Cmd {
			cmd := exec.Command(p.bin, append([]string{"apply", "node1", name, "--detailed-exitcode"}, p.flags...)...)
			cmd.Env = append(os.Environ(), "STATECTL_TEST_HOLD_BEFORE="+hold)
			return cmd
		}

		cmd := run(tc.hold)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		for deadline := time.Now().Add(60 * time.Second); !stopped(cmd.Process.Pid); {
			select {
			case err := <-done:
				t.Fatalf("%s: statectl ended before the hold: %v\n%s", tc.hold, err, out.String())
			default:
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: statectl did not reach the hold", tc.hold)
			}
			time.Sleep(5 * time.Millisecond)
		}
		pool := getPool(t, c1, name)
		slices.Sort(pool.Locations)
		if pool.Status != api.StoragePoolStatusPending || strings.Join(pool.Locations, ",") != strings.Join(tc.pending, ",") {
			t.Fatalf("%s: at the kill: status %s, locations %v, want Pending %v", tc.hold, pool.Status, pool.Locations, tc.pending)
		}
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-done

		// The re-run finishes the create.
		re := run("")
		if o, err := re.CombinedOutput(); re.ProcessState.ExitCode() != 3 {
			t.Fatalf("%s: re-run: %v, want exit 3 (changed)\n%s", tc.hold, err, o)
		}
		pool = getPool(t, c1, name)
		if pool.Status != api.StoragePoolStatusCreated || pool.Description != "killed" || pool.Config["rsync.bwlimit"] != "10" {
			t.Fatalf("%s: after the re-run: %+v", tc.hold, pool)
		}
		for _, n := range []string{"node1", "node2", "node3"} {
			if got := getPool(t, c1.UseTarget(n), name); got.Status != api.StoragePoolStatusCreated || got.Config["source"] != dirs[n] {
				t.Fatalf("%s: on %s: status %s, source %q, want Created %q", tc.hold, n, got.Status, got.Config["source"], dirs[n])
			}
		}
		// A further run: no changes (exit 0), and no write.
		if o, err := run("").CombinedOutput(); err != nil {
			t.Fatalf("%s: second re-run: %v, want exit 0\n%s", tc.hold, err, o)
		}
		call := mkcall("node1", "storage_pool_present", name, map[string]any{"driver": "dir", "description": "killed",
			"config": map[string]any{"rsync.bwlimit": "10"}, "members": members})
		if r := p.run(p.newModule(), call); r.planErr != nil || r.writes != 0 || r.plan.Action != module.NoOp {
			t.Fatalf("%s: in-process re-run: %v, %d writes, %+v", tc.hold, r.planErr, r.writes, r.plan)
		}
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}
