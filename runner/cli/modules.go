package cli

import (
	"github.com/statectl/statectl/runner/grains"
	"github.com/statectl/statectl/runner/module"
	"github.com/statectl/statectl/runner/modules/testmod"
)

// registry builds the state modules every command sees. Built-ins are
// listed here; plugins will be added here too.
func registry() *module.Registry {
	return module.NewRegistry(
		testmod.New(),
	)
}

// grainSources are the extra grain layers (between core and roster custom
// grains), e.g. the Incus server grains.
func grainSources() []grains.Source {
	return nil
}
