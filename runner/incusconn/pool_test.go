package incusconn

import (
	"context"
	"testing"

	"github.com/statectl/statectl/runner/roster"
)

// TestPool: one connection (one GET /1.0) per name until Forget; a
// failed connect is retried.
func TestPool(t *testing.T) {
	srv, pin := fakeIncus(t, "trusted")
	crt, key := clientCert(t)
	r := testRoster(map[string]*roster.Entry{
		"n":    {URL: srv.URL, ClientCert: crt, ClientKey: key, ServerCert: pin},
		"down": {URL: "https://127.0.0.1:1", ClientCert: crt, ClientKey: key, ServerCert: pin},
	})
	var c Counter
	p := NewPool(r, Options{Counter: &c, ConfigDir: t.TempDir()})
	defer p.Close()
	ctx := context.Background()
	first, err := p.Get(ctx, "n")
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := p.Get(ctx, "n"); again != first || c.Reads() != 1 {
		t.Fatalf("second Get: same=%t, %s, want the same connection and GET=1", again == first, c.String())
	}
	if first.Info == nil || first.InfoAt.IsZero() {
		t.Fatalf("connection without its GET /1.0 answer: %+v %v", first.Info, first.InfoAt)
	}
	p.Forget("n")
	if fresh, _ := p.Get(ctx, "n"); fresh == first || c.Reads() != 2 {
		t.Fatalf("Get after Forget: new=%t, %s", fresh != first, c.String())
	}
	for i := 0; i < 2; i++ {
		if _, err := p.Get(ctx, "down"); err == nil {
			t.Fatalf("Get of an unreachable target succeeded")
		}
	}
}
