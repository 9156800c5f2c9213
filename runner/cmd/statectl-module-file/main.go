// Command statectl-module-file is the `file` state module (file.managed,
// file.absent) as a statectl plugin: the example for plugin authors (see
// docs/plugins.md). statectl starts it; run by hand it only says so.
package main

import (
	"github.com/statectl/statectl/runner/modules/file"
	"github.com/statectl/statectl/runner/plugin/sdk"
)

func main() { sdk.Serve(file.New()) }
