//go:build !linux

package plugin

import "os/exec"

// dieWithParent has no portable equivalent outside Linux; plugin cleanup
// at exit (Host.Close, CleanupClients) still applies.
func dieWithParent(*exec.Cmd) {}
