// Package wire is what statectl and a state module plugin must agree on:
// the go-plugin handshake, the protocol version, the gRPC service
// (module.proto, generated code committed) and the conversions between
// runner/module values and their messages.
//
// Protobuf rather than a JSON codec: the messages are typed and
// versionable with the standard toolchain, and go-plugin's own services
// are protobuf already. Dynamic values (arguments, changes, grains,
// pillar) travel as Value, a oneof that keeps an int an int.
package wire

import (
	"context"

	goplugin "github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// ProtocolVersion is the plugin protocol this statectl speaks. It changes
// only when module.proto changes incompatibly; go-plugin refuses a plugin
// of another version at start.
const ProtocolVersion = 1

// PluginName is the one plugin a statectl-module-* binary serves.
const PluginName = "module"

// Handshake is fixed forever: it tells a statectl plugin from any other
// executable. It is a UX check, not security (the sha256 pin is that).
var Handshake = goplugin.HandshakeConfig{
	ProtocolVersion:  ProtocolVersion,
	MagicCookieKey:   "STATECTL_PLUGIN_MAGIC_COOKIE",
	MagicCookieValue: "5c2d8f0e6b7a4e19a3d1c0f4b8e2a7d6",
}

// Plugin is the go-plugin glue for both sides: the plugin serves Impl,
// statectl gets a ModuleClient.
type Plugin struct {
	goplugin.NetRPCUnsupportedPlugin
	Impl ModuleServer
}

var _ goplugin.GRPCPlugin = (*Plugin)(nil)

// GRPCServer implements goplugin.GRPCPlugin.
func (p *Plugin) GRPCServer(_ *goplugin.GRPCBroker, s *grpc.Server) error {
	RegisterModuleServer(s, p.Impl)
	return nil
}

// GRPCClient implements goplugin.GRPCPlugin.
func (p *Plugin) GRPCClient(_ context.Context, _ *goplugin.GRPCBroker, c *grpc.ClientConn) (any, error) {
	return NewModuleClient(c), nil
}
