// Command misbehave is the test plugin for statectl's plugin failure
// handling. One binary plays several plugins, chosen by the name it is
// installed under (tests copy it):
//
//	statectl-module-misbehave   the misbehave module: ok, crash, hang, panic, deadline, cancel,
//	                            and send/recv (typed plans and Upstream over the wire)
//	statectl-module-badcookie   a go-plugin plugin with another handshake cookie
//	statectl-module-future      a plugin speaking protocol version wire.ProtocolVersion+1
//	statectl-module-wrongname   serves a module named "other"
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	goplugin "github.com/hashicorp/go-plugin"

	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/plugin/sdk"
	"github.com/statectl/statectl/runner/plugin/wire"
)

func main() {
	name := strings.TrimPrefix(filepath.Base(os.Args[0]), "statectl-module-")
	switch name {
	case "badcookie":
		hs := wire.Handshake
		hs.MagicCookieKey, hs.MagicCookieValue = "SOME_OTHER_TOOL_PLUGIN", "not-statectl"
		goplugin.Serve(&goplugin.ServeConfig{
			HandshakeConfig:  hs,
			VersionedPlugins: map[int]goplugin.PluginSet{wire.ProtocolVersion: {wire.PluginName: &wire.Plugin{Impl: sdk.NewServer(misbehave{name})}}},
			GRPCServer:       goplugin.DefaultGRPCServer,
		})
	case "future":
		v := wire.ProtocolVersion + 1
		hs := wire.Handshake
		hs.ProtocolVersion = uint(v)
		goplugin.Serve(&goplugin.ServeConfig{
			HandshakeConfig:  hs,
			VersionedPlugins: map[int]goplugin.PluginSet{v: {wire.PluginName: &wire.Plugin{Impl: sdk.NewServer(misbehave{name})}}},
			GRPCServer:       goplugin.DefaultGRPCServer,
		})
	case "wrongname":
		sdk.Serve(misbehave{"other"})
	default:
		sdk.Serve(misbehave{name})
	}
}

type misbehave struct{ name string }

func (m misbehave) Name() string { return m.name }

func (misbehave) Functions() []module.FuncSpec {
	arg := []module.ArgSpec{{Name: "name", Type: module.TypeString, Doc: "Anything."}}
	return []module.FuncSpec{
		{Name: "ok", Doc: "Succeeds without changes.", Args: arg},
		{Name: "crash", Doc: "Plans a change; the plugin process crashes (a panic, exit status 2) during apply.", Args: arg},
		{Name: "hang", Doc: "Plan blocks forever, ignoring its context.", Args: arg},
		{Name: "panic", Doc: "Plan panics.", Args: arg},
		{Name: "deadline", Doc: "Plan reports the deadline it got in the comment.", Args: arg},
		{Name: "cancel", Doc: "Plan waits for its context to end, then creates the file name.", Args: arg},
		{Name: "send", Doc: "Plans a create that sends value=name to the states after it.", Args: arg},
		{Name: "recv", Doc: "Plan comments what the states before it did and sent.", Args: arg},
	}
}

func (misbehave) Validate(call *module.Call) error {
	if call.Name == "invalid" {
		return fmt.Errorf("name must not be invalid")
	}
	return nil
}

func (misbehave) Plan(ctx context.Context, call *module.Call) (*module.Plan, error) {
	switch call.Function {
	case "crash":
		return &module.Plan{Changes: map[string]any{"crash": "soon"}}, nil
	case "hang":
		select {}
	case "panic":
		panic("misbehave: deliberate panic")
	case "deadline":
		d, ok := ctx.Deadline()
		if !ok {
			return &module.Plan{Comment: "no deadline"}, nil
		}
		return &module.Plan{Comment: fmt.Sprintf("deadline in %s", time.Until(d).Round(time.Second))}, nil
	case "send":
		return &module.Plan{Action: module.Create, Changes: map[string]any{"value": call.Name},
			Send: map[string]string{"value": call.Name}}, nil
	case "recv":
		var seen []string
		for _, u := range call.Upstream {
			seen = append(seen, fmt.Sprintf("%s/%s %s.%s action=%s status=%s value=%s",
				u.Target, u.ID, u.Module, u.Function, u.Action, u.Status, u.Send["value"]))
		}
		return &module.Plan{Comment: "upstream: " + strings.Join(seen, "; ")}, nil
	case "cancel":
		<-ctx.Done()
		err := os.WriteFile(call.Name, []byte(ctx.Err().Error()), 0o644)
		return nil, err
	}
	return &module.Plan{Comment: "ok"}, nil
}

func (misbehave) Apply(_ context.Context, call *module.Call, _ *module.Plan) (*module.Outcome, error) {
	if call.Function == "crash" {
		// An unrecovered panic off the handler's goroutine kills the
		// process, as a real bug would (exit status 2, trace on stderr).
		go func() { panic("misbehave: simulated crash") }()
		select {}
	}
	if call.Function == "send" {
		return &module.Outcome{Changes: map[string]any{"value": call.Name}, Comment: "sent"}, nil
	}
	return &module.Outcome{Comment: "applied"}, nil
}
