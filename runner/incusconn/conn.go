// Package incusconn connects to a target's incusd: over its unix socket or
// https (with failover across a cluster's addresses), from a roster entry or
// an incus CLI remote. Every request carries a timeout (the client library
// has none) and is counted, so a stuck member cannot stall a run and a
// no-op apply can be shown to send zero writes.
package incusconn

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
	"golang.org/x/oauth2"

	"github.com/statectl/statectl/runner/roster"
	"github.com/statectl/statectl/runner/secret"
)

// Default timeouts.
const (
	DefaultConnectTimeout = 5 * time.Second
	DefaultRequestTimeout = 30 * time.Second
)

// Options tune a connection. Zero values take the defaults.
type Options struct {
	// ConnectTimeout bounds reaching one endpoint: TCP connect, TLS
	// handshake and the first GET /1.0 (default 5s). Failover to the
	// next endpoint happens after it.
	ConnectTimeout time.Duration
	// RequestTimeout bounds every later request, body included
	// (default 30s). Operation long-polls get their own wait on top.
	RequestTimeout time.Duration
	// Counter, if set, counts every request of the connection.
	Counter *Counter
	// ConfigDir is the incus CLI configuration directory (default
	// $INCUS_CONF, else ~/.config/incus): default client certificate and
	// remotes.
	ConfigDir string
	// Secrets, if set, receives the OIDC tokens read or refreshed, so
	// nothing the run prints or saves can show them.
	Secrets *secret.Set
	// UserAgent is sent with every request (default "statectl").
	UserAgent string
}

func (o Options) withDefaults() Options {
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = DefaultRequestTimeout
	}
	if o.ConfigDir == "" {
		o.ConfigDir = DefaultConfigDir()
	}
	if o.UserAgent == "" {
		o.UserAgent = "statectl"
	}
	return o
}

// Conn is a live connection to one target.
type Conn struct {
	// Server is the client; its requests are bounded and counted.
	Server incus.InstanceServer
	// Target is the roster or remote name connected to.
	Target string
	// Endpoint is the address that answered: unix:///path or https://host:port.
	Endpoint string
	// Info is the GET /1.0 answer read while connecting, ETag its ETag
	// and InfoAt when it was read: a caller planning right after
	// connecting can use it instead of reading GET /1.0 again.
	Info   *api.Server
	ETag   string
	InfoAt time.Time

	cancel context.CancelFunc
}

// Close aborts requests in flight and drops event listeners.
func (c *Conn) Close() {
	if c == nil {
		return
	}
	if c.Server != nil {
		c.Server.Disconnect()
	}
	if c.cancel != nil {
		c.cancel()
	}
}

// Connect reaches the target name: its roster entry if r has one (socket
// first, then url, then addresses, in order), else the incus CLI remote of
// that name. Each endpoint gets ConnectTimeout; the first that answers and
// trusts the client wins. ctx bounds the whole attempt; its values (not its
// cancellation) carry into later requests, which Close aborts.
func Connect(ctx context.Context, r *roster.Roster, name string, opts Options) (*Conn, error) {
	opts = opts.withDefaults()
	t, err := resolve(r, name, opts.ConfigDir)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, ep := range t.endpoints {
		if err := ctx.Err(); err != nil {
			errs = append(errs, err)
			break
		}
		c, err := dial(ctx, t, ep, opts)
		if err == nil {
			return c, nil
		}
		errs = append(errs, fmt.Errorf("%s: %w", ep.display(), err))
	}
	if len(errs) == 1 {
		return nil, fmt.Errorf("failed to connect to %s at %w", name, errs[0])
	}
	return nil, fmt.Errorf("failed to connect to %s (tried %d endpoints): %w", name, len(t.endpoints), joinErrs(errs))
}

// ConnectAny connects to the first of names that answers, in order (e.g.
// any member of a cluster, to read cluster-wide state).
func ConnectAny(ctx context.Context, r *roster.Roster, names []string, opts Options) (*Conn, error) {
	if len(names) == 0 {
		return nil, errors.New("failed to connect: no targets given")
	}
	var errs []error
	for _, n := range names {
		c, err := Connect(ctx, r, n, opts)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
		if ctx.Err() != nil {
			break
		}
	}
	return nil, fmt.Errorf("failed to connect to any of %s: %w", strings.Join(names, ", "), joinErrs(errs))
}

// joinErrs joins on one line ("; "), unlike errors.Join, so a report or log
// line stays one line; errors.Is/As still see every error.
func joinErrs(errs []error) error {
	return &multiErr{errs: errs}
}

type multiErr struct{ errs []error }

func (m *multiErr) Error() string {
	parts := make([]string, len(m.errs))
	for i, e := range m.errs {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

func (m *multiErr) Unwrap() []error { return m.errs }

func dial(ctx context.Context, t *target, ep endpoint, opts Options) (*Conn, error) {
	// Requests outlive the connect context: keep its values, drop its
	// cancellation, and give Close its own cancel.
	base, cancel := context.WithCancel(context.WithoutCancel(ctx))
	hc := &http.Client{}
	var (
		srv incus.InstanceServer
		tr  *transport
		err error
	)
	if ep.socket != "" {
		srv, err = incus.ConnectIncusUnixWithContext(base, ep.socket, &incus.ConnectionArgs{
			HTTPClient:    hc,
			UserAgent:     opts.UserAgent,
			SkipGetServer: true,
		})
		if err == nil {
			// The library sets hc.Transport for unix sockets and offers
			// no wrapper hook: wrap it in place.
			inner, ok := hc.Transport.(*http.Transport)
			if !ok {
				err = fmt.Errorf("unexpected transport %T", hc.Transport)
			} else {
				inner.DialContext = unixDialer(ep.socket, opts.ConnectTimeout)
				tr = newTransport(inner, opts.Counter, opts.ConnectTimeout)
				hc.Transport = tr
			}
		}
	} else {
		var (
			pin  *x509.Certificate
			auth *oidcAuth
		)
		args := &incus.ConnectionArgs{
			HTTPClient:    hc,
			UserAgent:     opts.UserAgent,
			SkipGetServer: true,
			TransportWrapper: func(inner *http.Transport) incus.HTTPTransporter {
				if pin != nil {
					pinOnly(inner.TLSClientConfig, pin, t.creds.serverCert)
				}
				inner.DialTLSContext = tlsDialer(inner.TLSClientConfig, opts.ConnectTimeout)
				tr = newTransport(inner, opts.Counter, opts.ConnectTimeout)
				if auth != nil {
					auth.next, auth.inner = tr, inner
					return auth
				}
				return tr
			},
		}
		if t.creds.oidc {
			var tokens *oidcTokens
			if tokens, err = loadOIDCTokens(t.creds.oidcTokens, opts.Secrets); err == nil {
				auth = &oidcAuth{file: t.creds.oidcTokens, secrets: opts.Secrets, timeout: opts.ConnectTimeout, tokens: tokens}
				// The client's own copy: it only sets the header, which
				// oidcAuth replaces with the current token.
				args.AuthType, args.OIDCTokens = "oidc", &oidcTokens{Token: &oauth2.Token{}}
			}
		}
		if err != nil {
		} else if err = t.creds.load(args); err == nil {
			if pin, err = parsePin(args.TLSServerCert); err == nil {
				srv, err = incus.ConnectIncusWithContext(base, ep.url, args)
			}
		}
	}
	if err != nil {
		cancel()
		return nil, err
	}

	// Probe under the connect timeout (the transport starts with it) and
	// the caller's cancellation; later requests get the request timeout.
	stop := context.AfterFunc(ctx, cancel)
	start := time.Now()
	info, etag, err := srv.GetServer()
	infoAt := time.Now()
	if !stop() && err == nil {
		// ctx ended just as the probe returned: base is already cancelled.
		err = ctx.Err()
	}
	if err != nil {
		cancel()
		if time.Since(start) >= opts.ConnectTimeout {
			return nil, fmt.Errorf("no answer within the connect timeout (%s): %w", opts.ConnectTimeout, err)
		}
		return nil, explain(ep, err)
	}
	tr.timeout.Store(int64(opts.RequestTimeout))
	if ep.socket == "" && info.Auth != "trusted" {
		cancel()
		if t.creds.oidc {
			return nil, fmt.Errorf("the server does not trust the OIDC identity (auth %q, methods %v): is oidc.issuer set on the server?", info.Auth, info.AuthMethods)
		}
		return nil, t.creds.untrustedErr()
	}
	if t.project != "" {
		srv = srv.UseProject(t.project)
	}
	return &Conn{Server: srv, Target: t.name, Endpoint: ep.display(), Info: info, ETag: etag, InfoAt: infoAt, cancel: cancel}, nil
}

// creds are the TLS file paths of a target; files are read at connect time
// and their contents never appear in errors.
type creds struct {
	clientCert, clientKey, serverCert string
	// oidc: authenticate with OIDC tokens from oidcTokens (see oidcAuth).
	oidc       bool
	oidcTokens string
	// defaulted: the client certificate came from the incus CLI config.
	defaulted bool
}

func (c creds) load(args *incus.ConnectionArgs) error {
	read := func(what, path string) (string, error) {
		if path == "" {
			return "", nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("failed to read %s: %w", what, err)
		}
		return string(b), nil
	}
	var err error
	if args.TLSClientCert, err = read("client certificate", c.clientCert); err != nil {
		return err
	}
	if args.TLSClientKey, err = read("client key", c.clientKey); err != nil {
		return err
	}
	if args.TLSServerCert, err = read("server certificate", c.serverCert); err != nil {
		return err
	}
	return nil
}

func (c creds) untrustedErr() error {
	if c.clientCert == "" {
		return errors.New("the server does not trust this client: no client certificate configured (set client_cert/client_key in the roster, or create one with `incus remote generate-certificate`)")
	}
	return fmt.Errorf("the server does not trust client certificate %s; on the server run `incus config trust add-certificate %s`", c.clientCert, c.clientCert)
}

// parsePin parses the roster's server_cert (PEM; "" for none).
func parsePin(pemText string) (*x509.Certificate, error) {
	if pemText == "" {
		return nil, nil
	}
	block, _ := pem.Decode([]byte(pemText))
	if block == nil {
		return nil, errors.New("failed to read server certificate: no PEM certificate found")
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("failed to read server certificate: %w", err)
	}
	return c, nil
}

// pinOnly makes pin the only certificate cfg accepts, byte for byte. The
// library adds a pin to the system CAs and sets the TLS server name to the
// pin's first DNS name, so any CA-signed certificate for that name, on any
// address, would pass and receive our requests (secret config included).
// Chain and name checks are off because the exact leaf match replaces
// them; VerifyConnection runs before the client sends its certificate or
// any request. cfg is the transport's own config, used by the HTTP dialer
// and the event websocket alike.
func pinOnly(cfg *tls.Config, pin *x509.Certificate, file string) {
	cfg.RootCAs = nil
	cfg.InsecureSkipVerify = true
	cfg.VerifyConnection = func(cs tls.ConnectionState) error {
		if len(cs.PeerCertificates) > 0 && bytes.Equal(cs.PeerCertificates[0].Raw, pin.Raw) {
			return nil
		}
		return fmt.Errorf("the server's certificate is not the pinned server_cert %s", file)
	}
}

// explain gives the usual connect failures their way out; the cause stays
// in the chain (and in the text, for the details).
func explain(ep endpoint, err error) error {
	var op *net.OpError
	addr := ""
	if errors.As(err, &op) && op.Addr != nil {
		addr = op.Addr.String()
	}
	switch {
	case ep.socket != "" && errors.Is(err, syscall.EACCES):
		return fmt.Errorf("permission denied on the unix socket %s: run as root or as a member of the incus-admin group (or use the https url with a trusted client certificate): %w", ep.socket, err)
	case ep.socket != "" && errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Errorf("nothing listens on the unix socket %s (is incusd running?): %w", ep.socket, err)
	case ep.socket == "" && errors.Is(err, syscall.ECONNREFUSED) && addr != "":
		return fmt.Errorf("connection refused by %s (is incusd running and listening there? see its core.https_address): %w", addr, err)
	}
	return err
}

// endpoint is one way to reach a target.
type endpoint struct {
	socket string // unix socket path, or
	url    string // https://host:port
}

func (e endpoint) display() string {
	if e.socket != "" {
		return "unix://" + e.socket
	}
	if u, err := url.Parse(e.url); err == nil {
		return u.Redacted()
	}
	return e.url
}
