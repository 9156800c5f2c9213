package plugin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/status"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/plugin/wire"
)

// Plugin is a started plugin as a module.Module. It restarts its process
// when a call finds it exited (after a crash).
type Plugin struct {
	name, path string
	host       *Host

	mu     sync.Mutex
	proc   *process
	specs  []module.FuncSpec
	closed bool
}

// watchPlugin is a Plugin whose module implements module.Watcher; the
// engine checks for the interface, so only such plugins may have it.
type watchPlugin struct{ *Plugin }

var (
	_ module.Module  = (*Plugin)(nil)
	_ module.Watcher = watchPlugin{}
	_ io.Closer      = (*Plugin)(nil)
)

// process is one run of the plugin executable.
type process struct {
	client *goplugin.Client
	cmd    *exec.Cmd
	rpc    wire.ModuleClient
	stderr *tail
}

// start launches the executable, checks its pin and handshake, and
// describes it. It is the only place a process is created.
func (p *Plugin) start() (*wire.DescribeResponse, error) {
	if err := p.checkPin(); err != nil {
		return nil, err
	}
	opts := p.host.opts
	cmd := exec.Command(p.path)
	dieWithParent(cmd)
	stderr := &tail{}
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: wire.Handshake,
		VersionedPlugins: map[int]goplugin.PluginSet{
			wire.ProtocolVersion: {wire.PluginName: &wire.Plugin{}},
		},
		Cmd:              cmd,
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		AutoMTLS:         true,
		Managed:          true,
		Logger:           opts.Logger,
		Stderr:           stderr,
		// What plugin code writes to os.Stderr (go-plugin forwards it):
		// the log shows it at warn level, and a crash comment may quote it.
		SyncStderr:   io.MultiWriter(stderr, &logLines{log: opts.Logger.Named(filepath.Base(p.path))}),
		StartTimeout: opts.StartTimeout,
	})
	proc := &process{client: client, cmd: cmd, stderr: stderr}
	rpc, err := client.Client()
	if err != nil {
		client.Kill()
		return nil, p.startError(proc, err)
	}
	raw, err := rpc.Dispense(wire.PluginName)
	if err != nil {
		client.Kill()
		return nil, p.errorf("failed to open the module service: %v", err)
	}
	proc.rpc = raw.(wire.ModuleClient)
	ctx, cancel := context.WithTimeout(context.Background(), opts.StartTimeout)
	defer cancel()
	desc, err := proc.rpc.Describe(ctx, &wire.DescribeRequest{})
	if err != nil {
		client.Kill()
		return nil, p.errorf("failed to describe its module: %v", p.callError(ctx, proc, "describe", err))
	}
	if desc.GetName() != p.name {
		client.Kill()
		return nil, p.errorf("serves module %q, but its file name says %q: rename it %s%s", desc.GetName(), p.name, Prefix, desc.GetName())
	}
	p.proc = proc
	if p.specs == nil {
		p.specs = wire.FromFuncSpecs(desc.GetFunctions())
	}
	return desc, nil
}

// checkPin refuses an executable whose sha256 is not the pinned one.
func (p *Plugin) checkPin() error {
	pin, ok := p.host.opts.Pins[p.name]
	if !ok {
		return nil
	}
	f, err := os.Open(p.path)
	if err != nil {
		return p.errorf("failed to read it for its sha256 pin: %v", err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return p.errorf("failed to read it for its sha256 pin: %v", err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !strings.EqualFold(got, pin) {
		return p.errorf("refusing to run it: its sha256 is %s, but statectl.yaml pins %s", got, pin)
	}
	return nil
}

var pluginVersion = regexp.MustCompile(`Plugin version: (\d+)`)

// startError explains why a plugin did not start.
func (p *Plugin) startError(proc *process, err error) error {
	msg := err.Error()
	if m := pluginVersion.FindStringSubmatch(msg); m != nil {
		v, _ := strconv.Atoi(m[1])
		fix := "upgrade statectl, or use a plugin built for protocol " + strconv.Itoa(wire.ProtocolVersion)
		if v < wire.ProtocolVersion {
			fix = "rebuild the plugin with this statectl's runner/plugin/sdk"
		}
		return p.errorf("refusing it: it speaks plugin protocol version %d, this statectl speaks %d; %s", v, wire.ProtocolVersion, fix)
	}
	if strings.Contains(msg, "timeout while waiting for plugin to start") {
		return p.errorf("did not start within %s%s", p.host.opts.StartTimeout, printed(proc))
	}
	var pathErr *os.PathError
	if errors.As(err, &pathErr) && !errors.Is(err, exec.ErrNotFound) {
		return p.errorf("refusing it: not a statectl plugin (%v)", pathErr.Err)
	}
	out := printed(proc)
	if line, ok := strings.CutPrefix(msg, "Unrecognized remote plugin message: "); ok {
		line, _, _ = strings.Cut(line, "\n")
		out = fmt.Sprintf("; its output began %q", line) + out
	}
	return p.errorf("refusing it: not a statectl plugin (it did not complete the statectl plugin handshake%s)", out)
}

// printed quotes what the process printed on stderr, if anything.
func printed(proc *process) string {
	if s := proc.stderr.text(300); s != "" {
		return fmt.Sprintf("; it printed: %q", s)
	}
	return ""
}

// said quotes the process's most telling stderr line, if any.
func said(proc *process) string {
	if l := proc.stderr.last(); l != "" {
		return fmt.Sprintf("; it said: %q", l)
	}
	return ""
}

// conn returns the running process, restarting a crashed one.
func (p *Plugin) conn() (*process, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, p.errorf("closed")
	}
	if p.proc != nil && !p.proc.client.Exited() {
		return p.proc, nil
	}
	if _, err := p.start(); err != nil {
		return nil, err
	}
	return p.proc, nil
}

// callError turns a failed RPC into the state's error: the context's
// error when it ended (the engine words timeouts), a crash with the
// plugin's exit status and last words, or the transport error.
func (p *Plugin) callError(ctx context.Context, proc *process, phase string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("plugin %s: %s: %w", p.name, phase, ctx.Err())
	}
	if proc.waitExited(2 * time.Second) {
		how := "exited"
		if st := proc.cmd.ProcessState; st != nil {
			how = st.String() // "exit status 2", "signal: killed"
		}
		return fmt.Errorf("plugin %s crashed during %s (%s)%s", p.name, phase, how, said(proc))
	}
	return fmt.Errorf("plugin %s failed during %s: %s", p.name, phase, status.Convert(err).Message())
}

// waitExited reports whether the process exits within d: a broken
// connection usually means a crash, noticed a moment later.
func (proc *process) waitExited(d time.Duration) bool {
	deadline := time.Now().Add(d)
	for !proc.client.Exited() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
	return true
}

// Name implements module.Module.
func (p *Plugin) Name() string { return p.name }

// Path is the plugin's executable.
func (p *Plugin) Path() string { return p.path }

// Functions implements module.Module with the specs the plugin described
// at start.
func (p *Plugin) Functions() []module.FuncSpec {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.specs
}

// Validate implements module.Module.
func (p *Plugin) Validate(call *module.Call) error {
	ctx, cancel := context.WithTimeout(context.Background(), p.host.opts.CallTimeout)
	defer cancel()
	proc, err := p.conn()
	if err != nil {
		return err
	}
	wc, err := wire.ToCall(call)
	if err != nil {
		return err
	}
	resp, err := proc.rpc.Validate(ctx, &wire.ValidateRequest{Call: wc})
	if err != nil {
		return p.callError(ctx, proc, "validate", err)
	}
	return moduleError(resp.GetError())
}

// Plan implements module.Module.
func (p *Plugin) Plan(ctx context.Context, call *module.Call) (*module.Plan, error) {
	proc, err := p.conn()
	if err != nil {
		return nil, err
	}
	wc, err := wire.ToCall(call)
	if err != nil {
		return nil, err
	}
	resp, err := proc.rpc.Plan(ctx, &wire.PlanRequest{Call: wc})
	if err != nil {
		return nil, p.callError(ctx, proc, "plan", err)
	}
	if err := moduleError(resp.GetError()); err != nil {
		return nil, err
	}
	return wire.FromPlan(resp.GetPlan()), nil
}

// Apply implements module.Module.
func (p *Plugin) Apply(ctx context.Context, call *module.Call, plan *module.Plan) (*module.Outcome, error) {
	proc, err := p.conn()
	if err != nil {
		return nil, err
	}
	wc, err := wire.ToCall(call)
	if err != nil {
		return nil, err
	}
	wp, err := wire.ToPlan(plan)
	if err != nil {
		return nil, fmt.Errorf("state %s: plan %w", call.ID, err)
	}
	resp, err := proc.rpc.Apply(ctx, &wire.ApplyRequest{Call: wc, Plan: wp})
	if err != nil {
		return nil, p.callError(ctx, proc, "apply", err)
	}
	if err := moduleError(resp.GetError()); err != nil {
		return nil, err
	}
	return wire.FromOutcome(resp.GetOutcome()), nil
}

// ModWatch implements module.Watcher for plugins whose module has it.
func (w watchPlugin) ModWatch(ctx context.Context, call *module.Call, test bool) (*module.Outcome, error) {
	proc, err := w.conn()
	if err != nil {
		return nil, err
	}
	wc, err := wire.ToCall(call)
	if err != nil {
		return nil, err
	}
	resp, err := proc.rpc.ModWatch(ctx, &wire.ModWatchRequest{Call: wc, Test: test})
	if err != nil {
		return nil, w.callError(ctx, proc, "mod_watch", err)
	}
	if err := moduleError(resp.GetError()); err != nil {
		return nil, err
	}
	return wire.FromOutcome(resp.GetOutcome()), nil
}

// Close stops the plugin process; later calls fail.
func (p *Plugin) Close() error {
	p.mu.Lock()
	proc := p.proc
	p.proc, p.closed = nil, true
	p.mu.Unlock()
	if proc != nil {
		proc.client.Kill()
	}
	return nil
}

// moduleError is the error the module itself returned, word for word, as
// a built-in module's would be.
func moduleError(e *wire.Error) error {
	if e == nil {
		return nil
	}
	return errors.New(e.GetMessage())
}
