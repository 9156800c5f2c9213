package cli

import (
	"fmt"
	"strings"
)

// saltKwargHints say what replaces Salt's key=value arguments of
// state.apply here.
var saltKwargHints = map[string]string{
	"test":      "use --test instead of test=True",
	"pillar":    `use --pillar-override '{"key": "value"}' instead of pillar=...`,
	"saltenv":   "statectl has one state environment, base: leave out saltenv=",
	"pillarenv": "statectl has one pillar environment: leave out pillarenv=",
	"failhard":  "use --failhard instead of failhard=True",
	"queue":     "use --lock-timeout 5m instead of queue=True",
	"exclude":   "put exclude: in an SLS file instead of exclude=",
}

// saltKwarg rejects an SLS argument written as Salt's key=value (test=True,
// pillar='{...}'): it would otherwise be looked up as an SLS named
// "test=True". No SLS name contains "=".
func saltKwarg(cmd, arg string) error {
	key, _, ok := strings.Cut(arg, "=")
	if !ok {
		return nil
	}
	hint := fmt.Sprintf("statectl takes flags where Salt takes key=value; see 'statectl help %s'", cmd)
	if h, ok := saltKwargHints[strings.ToLower(key)]; ok {
		hint = h
	}
	return usageError(hint, "'%s' is not an SLS name", arg)
}
