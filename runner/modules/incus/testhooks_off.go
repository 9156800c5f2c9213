//go:build !statectl_testhooks

package incus

// holdBefore is the fault tests' stop point (see testhooks_on.go); a
// released binary has none.
func holdBefore(resStep) {}
