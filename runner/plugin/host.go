// Package plugin runs state modules out of process with
// hashicorp/go-plugin: it finds statectl-module-NAME executables, starts
// one when a state first uses its module, and adapts it to module.Module,
// so the engine cannot tell a plugin from a built-in.
//
// Protocol: gRPC only, over automatic mTLS, with a fixed handshake cookie
// and a protocol version negotiated at start (runner/plugin/wire); a
// plugin of another version, or an executable that is not a plugin, is
// refused with a message naming it. Plugins are managed clients: Close
// (and go-plugin's CleanupClients, which statectl calls at exit) stops
// them, and on Linux the kernel kills them if statectl dies first.
//
// A plugin that crashes fails the state it was serving with a comment
// saying so (and its last words on stderr); the next state using it
// starts it again. Deadlines and cancellation travel with each call, so a
// hung plugin is cut off at the state's timeout.
package plugin

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/statectl/statectl/runner/module"
)

// Options configure a Host. The zero value searches nothing.
type Options struct {
	// Dirs are searched for statectl-module-NAME executables, in order
	// (SearchPath gives statectl's default).
	Dirs []string
	// Pins maps a module name to the sha256 (hex) its executable must
	// have; a plugin that does not match is refused.
	Pins map[string]string
	// Logger receives go-plugin's log and the plugins' stderr. Nil means
	// warnings and errors on os.Stderr.
	Logger hclog.Logger
	// StartTimeout bounds starting a plugin (exec, handshake, describe);
	// 0 means 10s.
	StartTimeout time.Duration
	// CallTimeout bounds the calls that carry no context (Validate); 0
	// means 30s.
	CallTimeout time.Duration
}

// Host finds plugins and starts them on demand. It implements
// module.Resolver; give it to a module.Registry with SetResolver.
type Host struct {
	opts  Options
	found map[string]string

	mu      sync.Mutex
	started []*Plugin
}

var _ module.Resolver = (*Host)(nil)

// NewHost discovers the plugins in opts.Dirs. It starts none.
func NewHost(opts Options) *Host {
	if opts.Logger == nil {
		opts.Logger = NewLogger(os.Stderr, "warn")
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 10 * time.Second
	}
	if opts.CallTimeout == 0 {
		opts.CallTimeout = 30 * time.Second
	}
	return &Host{opts: opts, found: Discover(opts.Dirs)}
}

// NewLogger returns the logger statectl gives go-plugin: level is trace,
// debug, info, warn, error or off.
func NewLogger(w io.Writer, level string) hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:   "statectl",
		Level:  hclog.LevelFromString(level),
		Output: w,
	})
}

// Names implements module.Resolver: the discovered plugins' module names.
func (h *Host) Names() []string { return sortedNames(h.found) }

// Path returns the executable serving the named module.
func (h *Host) Path(name string) (string, bool) {
	p, ok := h.found[name]
	return p, ok
}

// Resolve implements module.Resolver: it starts the named plugin and asks
// it for its functions. (nil, nil) means no such plugin.
func (h *Host) Resolve(name string) (module.Module, error) {
	path, ok := h.found[name]
	if !ok {
		return nil, nil
	}
	p := &Plugin{name: name, path: path, host: h}
	desc, err := p.start()
	if err != nil {
		return nil, err
	}
	h.mu.Lock()
	h.started = append(h.started, p)
	h.mu.Unlock()
	if desc.GetModWatch() {
		return &watchPlugin{p}, nil
	}
	return p, nil
}

// Close stops every plugin the host started and waits for them to exit.
func (h *Host) Close() error {
	h.mu.Lock()
	started := h.started
	h.started = nil
	h.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range started {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p.Close()
		}()
	}
	wg.Wait()
	return nil
}

// errorf builds an error naming the plugin and its executable.
func (p *Plugin) errorf(format string, args ...any) error {
	return fmt.Errorf("plugin %s (%s): %s", p.name, p.path, fmt.Sprintf(format, args...))
}

// Cleanup stops every plugin process still running in this process
// (go-plugin's CleanupClients). statectl defers it in main, so no plugin
// outlives it, on an error or Ctrl-C too.
func Cleanup() { goplugin.CleanupClients() }
