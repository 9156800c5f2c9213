package incus_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"

	incusclient "github.com/lxc/incus/v6/client"

	"github.com/statectl/statectl/runner/incusconn"
	"github.com/statectl/statectl/runner/lab"
	"github.com/statectl/statectl/runner/lab/labtest"
	"github.com/statectl/statectl/runner/module"
	incusmod "github.com/statectl/statectl/runner/modules/incus"
	"github.com/statectl/statectl/runner/roster"
)

// env is a lab with a module connected to it and a write counter.
type env struct {
	t       *testing.T
	lab     *lab.Lab
	roster  *roster.Roster
	mod     module.Module
	counter incusconn.Counter
}

func newEnv(t *testing.T, n int) *env {
	t.Helper()
	return envOn(t, labtest.Start(t, n))
}

// envOn is the env of a started lab.
func envOn(t *testing.T, l *lab.Lab) *env {
	t.Helper()
	r, err := roster.Load(l.RosterPath())
	if err != nil {
		t.Fatal(err)
	}
	return rosterEnv(t, l, r)
}

// rosterEnv is the env of a started lab reached through roster r (a
// balancer, an address list, OIDC) instead of the lab's own roster.
func rosterEnv(t *testing.T, l *lab.Lab, r *roster.Roster) *env {
	e := &env{t: t, lab: l, roster: r}
	e.mod = e.newModule()
	return e
}

// entries is a roster of entries (each named by its Name).
func entries(list ...*roster.Entry) *roster.Roster {
	r := &roster.Roster{File: "/test/roster.yaml", Entries: map[string]*roster.Entry{}}
	for _, e := range list {
		r.Entries[e.Name] = e
	}
	return r
}

// labEntry is a roster entry reaching lab l at url (then more) with the
// lab's client certificate, pinning the cluster certificate.
func labEntry(l *lab.Lab, name, url string, more ...string) *roster.Entry {
	return &roster.Entry{Name: name, URL: url, Addresses: more, ClientCert: l.ClientCert, ClientKey: l.ClientKey, ServerCert: l.ClusterCert}
}

// newModule returns a fresh module (a new run) sharing the counter.
func (e *env) newModule() module.Module {
	m := incusmod.New(e.roster, incusconn.Options{Counter: &e.counter})
	e.t.Cleanup(func() { _ = m.(io.Closer).Close() })
	return m
}

// client is a direct, uncounted connection to a member, for checks and
// out-of-band edits.
func (e *env) client(name string) incusclient.InstanceServer {
	e.t.Helper()
	return labtest.Client(e.t, e.lab, name)
}

func (e *env) addr(name string) string {
	m, _ := e.lab.Member(name)
	return m.Address
}

func mkcall(target, fn, name string, args map[string]any) *module.Call {
	a := map[string]any{"name": name}
	for k, v := range args {
		a[k] = v
	}
	return &module.Call{ID: name, SLS: "test", Function: fn, Name: name, Args: a, Target: &module.Target{Name: target}}
}

// result is one plan (+ apply) with everything that would be shown.
type result struct {
	plan    *module.Plan
	out     *module.Outcome
	planErr error
	applErr error
	writes  int64 // write requests sent by Apply
}

// text is everything a user could see, for secret checks.
func (r result) text() string {
	var b strings.Builder
	for _, v := range []any{r.plan, r.out} {
		data, _ := json.Marshal(v)
		b.Write(data)
	}
	fmt.Fprint(&b, r.planErr, r.applErr)
	return b.String()
}

// plan runs Validate and Plan (test mode) and checks no write was sent.
func (e *env) plan(m module.Module, c *module.Call) result {
	e.t.Helper()
	if err := m.Validate(c); err != nil {
		e.t.Fatalf("%s: validate: %v", c.ID, err)
	}
	before := e.counter.Writes()
	c.Test = true
	p, err := m.Plan(context.Background(), c)
	c.Test = false
	if n := e.counter.Writes() - before; n != 0 {
		e.t.Fatalf("%s: plan sent %d write requests", c.ID, n)
	}
	return result{plan: p, planErr: err}
}

// run plans and applies as the engine does outside test mode: when the
// plan has changes or fails (the engine hands a failing plan to Apply).
func (e *env) run(m module.Module, c *module.Call) result {
	e.t.Helper()
	r := e.plan(m, c)
	if r.planErr != nil || (!r.plan.Fail && len(r.plan.Changes) == 0) {
		return r
	}
	before := e.counter.Writes()
	r.out, r.applErr = m.Apply(context.Background(), c, r.plan)
	r.writes = e.counter.Writes() - before
	return r
}

// mustApply runs c and fails the test unless it changed something and
// succeeded.
func (e *env) mustApply(m module.Module, c *module.Call) result {
	e.t.Helper()
	r := e.run(m, c)
	if r.planErr != nil {
		e.t.Fatalf("%s: plan: %v", c.ID, r.planErr)
	}
	if r.plan.Fail {
		e.t.Fatalf("%s: plan fails: %s", c.ID, r.plan.Comment)
	}
	if r.out == nil && r.applErr == nil {
		e.t.Fatalf("%s: nothing to apply: %s", c.ID, r.plan.Comment)
	}
	if r.applErr != nil || r.out.Failed {
		e.t.Fatalf("%s: apply: %v %+v", c.ID, r.applErr, r.out)
	}
	if r.writes == 0 {
		e.t.Fatalf("%s: apply changed %v without a counted write", c.ID, r.out.Changes)
	}
	return r
}

// mustConverged fails unless c plans no change.
func (e *env) mustConverged(m module.Module, c *module.Call) result {
	e.t.Helper()
	r := e.plan(m, c)
	if r.planErr != nil || r.plan.Fail || len(r.plan.Changes) > 0 {
		e.t.Fatalf("%s: want converged, got err=%v plan=%+v", c.ID, r.planErr, r.plan)
	}
	return r
}
