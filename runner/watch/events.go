package watch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/gorilla/websocket"
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

// Reconnected is the reason a Notice gives after an event stream was
// re-established (possibly through another member): events may have been
// missed meanwhile, so a pass is due.
const Reconnected = "reconnected"

// Notice is what a Listener reports.
type Notice struct {
	// Reason is the lifecycle action, or Reconnected.
	Reason string
	// Location is the cluster member the event happened on, as Incus
	// stamps it ("" for Reconnected).
	Location string
	// Via names the source whose stream delivered the notice.
	Via string
	// Time is when the daemon stamped the event (zero for Reconnected):
	// with Reason and Location, it tells the same event heard via two
	// streams.
	Time time.Time
}

// Dialer connects to a daemon; closing releases the connection.
type Dialer func(ctx context.Context) (srv incus.InstanceServer, closeFn func(), err error)

// Source is a daemon whose event stream a Listener can follow.
type Source struct {
	Name string
	Dial Dialer
}

// Listener follows the lifecycle events of one target. A clustered member
// forwards the events of every other member it pulls from (stamped with
// their Location), so any reachable member of the target's cluster will
// do: when the followed member dies, is frozen or leaves the cluster, the
// Listener moves to another source.
type Listener struct {
	// Sources lists the daemons to follow, preferred first (the target's
	// own). It is called before each round of connection attempts, so it
	// can reflect the cluster as last seen.
	Sources func() []Source
	// MaxBackoff caps the delay between rounds in which no source answered
	// (default 1m); the delay starts at 1s and doubles.
	MaxBackoff time.Duration
	// Liveness is the longest silence a stream may keep: a ping is sent
	// every third of it, and a stream without any frame (event, ping or
	// pong) for that long is dropped. A frozen daemon (SIGSTOP, a hung
	// host) keeps its socket open, so a broken read alone would never
	// tell (default 15s).
	Liveness time.Duration
	// Notify receives relevant events and reconnections. It must not
	// block for long.
	Notify func(Notice)
	// Up, if set, is called with the name of each source whose stream
	// starts.
	Up func(via string)
	// Logf reports stream changes (nil: silent).
	Logf func(format string, args ...any)
}

// Default Listener settings.
const (
	DefaultLiveness   = 15 * time.Second
	defaultMaxBackoff = time.Minute
)

// stableStream is how long a stream must have lived for its loss to be
// retried at once on another source rather than after a backoff: a
// stream that keeps breaking right away must not spin.
const stableStream = time.Second

// Run follows events until ctx ends.
func (l *Listener) Run(ctx context.Context) {
	maxBackoff := l.MaxBackoff
	if maxBackoff <= 0 {
		maxBackoff = defaultMaxBackoff
	}
	logf := l.Logf
	if logf == nil {
		logf = func(string, ...any) {}
	}
	var (
		backoff   time.Duration
		connected bool   // a stream ran before: the next one warrants a pass
		broke     string // the source whose stream broke last: tried last
	)
	for ctx.Err() == nil {
		var errs []string
		var lived time.Duration // how long a stream ran this round
		streamed := false
		for _, s := range rotate(l.Sources(), broke) {
			started := time.Now()
			err := l.follow(ctx, s, func() {
				if connected {
					logf("event stream reconnected via %s", s.Name)
					l.Notify(Notice{Reason: Reconnected, Via: s.Name})
				} else {
					logf("following events via %s", s.Name)
				}
				if l.Up != nil {
					l.Up(s.Name)
				}
				connected, streamed = true, true
			})
			if ctx.Err() != nil {
				return
			}
			if streamed {
				lived = time.Since(started)
				logf("event stream via %s lost: %v", s.Name, err)
				broke = s.Name
				break
			}
			errs = append(errs, fmt.Sprintf("%s: %v", s.Name, err))
		}
		if streamed && lived >= stableStream {
			// Fail over at once: the other members are likely fine.
			backoff = 0
			continue
		}
		if backoff == 0 {
			backoff = time.Second
		} else {
			backoff = min(2*backoff, maxBackoff)
		}
		if len(errs) > 0 {
			logf("no event stream (%s); retrying in %s", strings.Join(errs, "; "), backoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
	}
}

// rotate puts the source named last at the end, keeping the order of the
// others: after a stream breaks, the other members are tried first.
func rotate(srcs []Source, last string) []Source {
	out := make([]Source, 0, len(srcs))
	var tail []Source
	for _, s := range srcs {
		if s.Name == last {
			tail = append(tail, s)
			continue
		}
		out = append(out, s)
	}
	return append(out, tail...)
}

// eventsPath asks for lifecycle events of the default project, where
// server and cluster events are sent.
const eventsPath = "/events?type=" + api.EventTypeLifecycle

// follow runs one source's stream until it breaks or ctx ends; up runs
// once the stream is established.
func (l *Listener) follow(ctx context.Context, s Source, up func()) error {
	liveness := l.Liveness
	if liveness <= 0 {
		liveness = DefaultLiveness
	}
	srv, closeFn, err := s.Dial(ctx)
	if err != nil {
		return err
	}
	defer closeFn()
	// The raw websocket, not GetEvents: only with the connection in hand
	// can the Listener ping the daemon and notice that it stopped
	// answering.
	ws, err := srv.RawWebsocket(eventsPath)
	if err != nil {
		return fmt.Errorf("failed to open the event stream: %w", err)
	}
	defer ws.Close()
	alive := func() { _ = ws.SetReadDeadline(time.Now().Add(liveness)) }
	alive()
	ws.SetPongHandler(func(string) error { alive(); return nil })
	ws.SetPingHandler(func(data string) error {
		alive()
		err := ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(liveness/3))
		if errors.Is(err, websocket.ErrCloseSent) {
			return nil
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil // the read deadline decides
		}
		return err
	})
	up()

	done := make(chan error, 1)
	go func() {
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				done <- err
				return
			}
			alive()
			if n, ok := notice(data); ok {
				n.Via = s.Name
				l.Notify(n)
			}
		}
	}()
	tick := time.NewTicker(liveness / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			ws.Close()
			<-done
			return ctx.Err()
		case err := <-done:
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				return fmt.Errorf("no answer for %s (member frozen or unreachable)", liveness)
			}
			return err
		case <-tick.C:
			// A full socket buffer or a dead peer shows as a write error;
			// a frozen one only as the missing pong (read deadline).
			if err := ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(liveness/3)); err != nil {
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					ws.Close()
					<-done
					return fmt.Errorf("failed to ping: %w", err)
				}
			}
		}
	}
}

// notice decodes an event message into a Notice when it is a relevant
// lifecycle event.
func notice(data []byte) (Notice, bool) {
	var e api.Event
	if json.Unmarshal(data, &e) != nil || e.Type != api.EventTypeLifecycle {
		return Notice{}, false
	}
	var lc api.EventLifecycle
	if json.Unmarshal(e.Metadata, &lc) != nil || !Relevant(lc.Action) {
		return Notice{}, false
	}
	return Notice{Reason: lc.Action, Location: e.Location, Time: e.Timestamp}, true
}
