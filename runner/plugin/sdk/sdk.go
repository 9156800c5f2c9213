// Package sdk is all a plugin author needs: write a module.Module and
// serve it from main with
//
//	func main() { sdk.Serve(mymodule.New()) }
//
// Build the binary as statectl-module-NAME, where NAME is the module's
// Name(), and put it where statectl looks for plugins (docs/plugins.md).
// The binary is not meant to be run by hand: statectl starts it with the
// handshake cookie, talks gRPC over mTLS, and stops it when done.
package sdk

import (
	"context"
	"fmt"
	"os"

	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/plugin/wire"
)

// Serve serves m until statectl stops the plugin. It does not return
// normally; run as a plain program it prints that it is a plugin and
// exits 1.
func Serve(m module.Module) {
	goplugin.Serve(&goplugin.ServeConfig{
		HandshakeConfig: wire.Handshake,
		VersionedPlugins: map[int]goplugin.PluginSet{
			wire.ProtocolVersion: {wire.PluginName: &wire.Plugin{Impl: NewServer(m)}},
		},
		GRPCServer: goplugin.DefaultGRPCServer,
		Logger:     Logger(),
	})
}

// Logger returns a logger whose lines statectl shows in its own log, at
// their level (statectl's --log-level filters them). Plugins must not
// write to stdout: go-plugin uses it for the handshake.
func Logger() hclog.Logger {
	return hclog.New(&hclog.LoggerOptions{
		Name:       "",
		Level:      hclog.Trace,
		Output:     os.Stderr,
		JSONFormat: true,
	})
}

// NewServer adapts m to the wire service. Serve uses it; it is exported
// for plugins that configure go-plugin themselves.
func NewServer(m module.Module) wire.ModuleServer {
	s := &server{m: m}
	s.w, s.watch = m.(module.Watcher)
	return s
}

type server struct {
	wire.UnimplementedModuleServer
	m     module.Module
	w     module.Watcher
	watch bool
}

func (s *server) Describe(context.Context, *wire.DescribeRequest) (*wire.DescribeResponse, error) {
	fs, err := wire.ToFuncSpecs(s.m.Functions())
	if err != nil {
		return nil, err
	}
	return &wire.DescribeResponse{Name: s.m.Name(), Functions: fs, ModWatch: s.watch}, nil
}

func (s *server) Validate(_ context.Context, req *wire.ValidateRequest) (resp *wire.ValidateResponse, err error) {
	defer func() {
		if e := recovered(recover(), "validate"); e != nil {
			resp, err = &wire.ValidateResponse{Error: e}, nil
		}
	}()
	return &wire.ValidateResponse{Error: wire.ToError(s.m.Validate(wire.FromCall(req.GetCall())))}, nil
}

func (s *server) Plan(ctx context.Context, req *wire.PlanRequest) (resp *wire.PlanResponse, err error) {
	defer func() {
		if e := recovered(recover(), "plan"); e != nil {
			resp, err = &wire.PlanResponse{Error: e}, nil
		}
	}()
	p, merr := s.m.Plan(ctx, wire.FromCall(req.GetCall()))
	if merr != nil {
		return &wire.PlanResponse{Error: wire.ToError(merr)}, nil
	}
	wp, err := wire.ToPlan(p)
	if err != nil {
		return &wire.PlanResponse{Error: wire.ToError(fmt.Errorf("failed to encode plan: %w", err))}, nil
	}
	return &wire.PlanResponse{Plan: wp}, nil
}

func (s *server) Apply(ctx context.Context, req *wire.ApplyRequest) (resp *wire.ApplyResponse, err error) {
	defer func() {
		if e := recovered(recover(), "apply"); e != nil {
			resp, err = &wire.ApplyResponse{Error: e}, nil
		}
	}()
	o, merr := s.m.Apply(ctx, wire.FromCall(req.GetCall()), wire.FromPlan(req.GetPlan()))
	if merr != nil {
		return &wire.ApplyResponse{Error: wire.ToError(merr)}, nil
	}
	wo, err := wire.ToOutcome(o)
	if err != nil {
		return &wire.ApplyResponse{Error: wire.ToError(fmt.Errorf("failed to encode outcome: %w", err))}, nil
	}
	return &wire.ApplyResponse{Outcome: wo}, nil
}

func (s *server) ModWatch(ctx context.Context, req *wire.ModWatchRequest) (resp *wire.ModWatchResponse, err error) {
	defer func() {
		if e := recovered(recover(), "mod_watch"); e != nil {
			resp, err = &wire.ModWatchResponse{Error: e}, nil
		}
	}()
	if !s.watch {
		return &wire.ModWatchResponse{Error: wire.ToError(fmt.Errorf("module %s has no mod_watch", s.m.Name()))}, nil
	}
	o, merr := s.w.ModWatch(ctx, wire.FromCall(req.GetCall()), req.GetTest())
	if merr != nil {
		return &wire.ModWatchResponse{Error: wire.ToError(merr)}, nil
	}
	wo, err := wire.ToOutcome(o)
	if err != nil {
		return &wire.ModWatchResponse{Error: wire.ToError(fmt.Errorf("failed to encode outcome: %w", err))}, nil
	}
	return &wire.ModWatchResponse{Outcome: wo}, nil
}

// recovered turns a module panic into the call's error, as the engine does
// for built-in modules, instead of killing the plugin and with it every
// later state that uses it.
func recovered(p any, phase string) *wire.Error {
	if p == nil {
		return nil
	}
	return &wire.Error{Message: fmt.Sprintf("module panicked during %s: %v", phase, p)}
}
