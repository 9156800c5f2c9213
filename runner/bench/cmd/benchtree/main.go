// Command benchtree writes one of the benchmark trees of runner/bench to a
// directory and prints the statectl arguments that apply it, so that a
// statectl process can be measured from outside (hyperfine, perf,
// valgrind, strace):
//
//	statectl $(go run ./runner/bench/cmd/benchtree chain /tmp/chain)
package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/statectl/statectl/runner/bench"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: benchtree chain|map DIR")
		os.Exit(2)
	}
	var t *bench.Tree
	var err error
	switch os.Args[1] {
	case "chain":
		t, err = bench.WriteChain(os.Args[2], 1000)
	case "map":
		t, err = bench.WriteSharedMap(os.Args[2], 50, 20)
	default:
		err = fmt.Errorf("unknown tree %q (want chain or map)", os.Args[1])
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "failed to write tree: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(strings.Join(t.Args(), " "))
}
