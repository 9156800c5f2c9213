package watch

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
)

// Relevant reports whether a lifecycle action can mean drift in what the
// incus states manage: server config and cluster membership and groups.
func Relevant(action string) bool {
	return action == api.EventLifecycleConfigUpdated ||
		strings.HasPrefix(action, "cluster-member-") ||
		strings.HasPrefix(action, "cluster-group-")
}

// Reconnected is the reason Listen gives after re-establishing a broken
// event stream: events may have been missed, so a pass is due.
const Reconnected = "reconnected"

// Dialer connects to a daemon for its event stream; closing releases the
// connection.
type Dialer func(ctx context.Context) (srv incus.InstanceServer, closeFn func(), err error)

// Listen follows the lifecycle events of the daemon dial reaches until ctx
// ends, calling notify with the action of each relevant event. A broken
// stream (daemon restarted, member removed and reset) is re-dialled with
// backoff from 1s up to maxBackoff; once back, notify(Reconnected) runs,
// since events were missed meanwhile. logf reports stream changes.
func Listen(ctx context.Context, dial Dialer, maxBackoff time.Duration, notify func(reason string), logf func(format string, args ...any)) {
	backoff := time.Duration(0)
	connected := false // ever connected: a reconnect warrants a pass
	for ctx.Err() == nil {
		err := listenOnce(ctx, dial, func() {
			if connected {
				logf("event stream reconnected")
				notify(Reconnected)
			}
			connected = true
			backoff = 0
		}, notify)
		if ctx.Err() != nil {
			return
		}
		if backoff == 0 {
			backoff = time.Second
		} else {
			backoff = min(2*backoff, maxBackoff)
		}
		logf("event stream lost (%v); retrying in %s", err, backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
	}
}

// listenOnce runs one event stream until it breaks or ctx ends.
func listenOnce(ctx context.Context, dial Dialer, up func(), notify func(string)) error {
	srv, closeFn, err := dial(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	l, err := srv.GetEvents()
	if err != nil {
		return err
	}
	defer l.Disconnect()
	_, err = l.AddHandler([]string{api.EventTypeLifecycle}, func(e api.Event) {
		var lc api.EventLifecycle
		if json.Unmarshal(e.Metadata, &lc) == nil && Relevant(lc.Action) {
			notify(lc.Action)
		}
	})
	if err != nil {
		return err
	}
	up()
	done := make(chan error, 1)
	go func() { done <- l.Wait() }()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case err := <-done:
		if err == nil {
			err = errStreamClosed
		}
		return err
	}
}

type streamError string

func (e streamError) Error() string { return string(e) }

const errStreamClosed = streamError("stream closed")
