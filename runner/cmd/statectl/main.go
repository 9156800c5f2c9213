// Command statectl is a Salt-style declarative state runner for Incus
// cluster membership. See runner/cli.
package main

import (
	"os"

	"github.com/statectl/statectl/runner/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}
