package incus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	incus "github.com/lxc/incus/v6/client"
	"github.com/lxc/incus/v6/shared/api"
	localtls "github.com/lxc/incus/v6/shared/tls"

	"github.com/statectl/statectl/runner/incusconn"
)

// Helpers shared by the cluster functions.

// serverInfo is what GET /1.0 says about one daemon.
type serverInfo struct {
	clustered bool
	name      string // member name when clustered
	config    map[string]string
	etag      string
}

func readServer(s incus.InstanceServer) (*serverInfo, error) {
	srv, etag, err := s.GetServer()
	if err != nil {
		return nil, fmt.Errorf("failed to read server: %w", err)
	}
	return &serverInfo{
		clustered: srv.Environment.ServerClustered,
		name:      srv.Environment.ServerName,
		config:    srv.Config,
		etag:      etag,
	}, nil
}

// clusterView is a connection to a clustered member, used to read and
// change membership.
type clusterView struct {
	via  string // roster name
	srv  incus.InstanceServer
	info *serverInfo
}

// findCluster returns the first candidate (roster names or addresses of
// roster entries, see rosterAt; in order) that answers and is clustered. notes explains why the others were skipped.
func (m *Module) findCluster(ctx context.Context, candidates []string) (view *clusterView, notes []string) {
	seen := map[string]bool{}
	for _, name := range candidates {
		name = m.rosterAt(name)
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		s, err := m.conn(ctx, name)
		if err != nil {
			notes = append(notes, err.Error())
			continue
		}
		info, err := readServer(s)
		if err != nil {
			notes = append(notes, fmt.Sprintf("%s: %v", name, err))
			continue
		}
		if !info.clustered {
			notes = append(notes, fmt.Sprintf("%s is not clustered", name))
			continue
		}
		return &clusterView{via: name, srv: s, info: info}, notes
	}
	return nil, notes
}

// isStale reports an ETag mismatch (someone changed the object after plan).
func isStale(err error) bool {
	return api.StatusErrorCheck(err, http.StatusPreconditionFailed)
}

// errConcurrent is the failure for a stale ETag.
func errConcurrent(what string) error {
	return fmt.Errorf("%s changed concurrently between plan and apply; nothing was written, re-run", what)
}

// mintToken asks the cluster for a join token for name (retrying the
// window right after a bootstrap, see incusconn.CreateMemberToken).
func mintToken(ctx context.Context, s incus.InstanceServer, name string) (*api.ClusterMemberJoinToken, string, error) {
	o, err := incusconn.CreateMemberToken(ctx, s, name)
	if err != nil {
		return nil, "", fmt.Errorf("failed to create join token for %s: %w", name, err)
	}
	tok, err := o.ToClusterJoinToken()
	if err != nil {
		return nil, o.ID, fmt.Errorf("failed to read join token: %w", err)
	}
	return tok, o.ID, nil
}

// decodeToken parses a join token as `incus cluster add` prints it.
func decodeToken(s string) (*api.ClusterMemberJoinToken, error) {
	data, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, errors.New("cluster_token is not a join token (not base64)")
	}
	var t api.ClusterMemberJoinToken
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, errors.New("cluster_token is not a join token (not JSON)")
	}
	if t.ServerName == "" || t.Secret == "" || t.Fingerprint == "" || len(t.Addresses) == 0 {
		return nil, errors.New("cluster_token is not a join token (server_name, secret, fingerprint or addresses missing)")
	}
	return &t, nil
}

// clusterCertificate fetches the certificate served at one of the token's
// addresses and checks it against the token fingerprint, so the joiner
// only ever trusts the cluster the token came from. It returns the PEM and
// the address that served it.
func clusterCertificate(ctx context.Context, tok *api.ClusterMemberJoinToken) (certPEM, addr string, err error) {
	var errs []error
	for _, a := range tok.Addresses {
		cert, err := peerCertificate(ctx, a)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", a, err))
			continue
		}
		if fp := localtls.CertFingerprint(cert); !strings.EqualFold(fp, tok.Fingerprint) {
			errs = append(errs, fmt.Errorf("%s: certificate fingerprint %s does not match the join token's %s", a, fp, tok.Fingerprint))
			continue
		}
		return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw})), a, nil
	}
	return "", "", fmt.Errorf("failed to fetch the cluster certificate from any token address: %w", errors.Join(errs...))
}

// peerCertificate reads the leaf certificate an https endpoint serves.
// Verification is the fingerprint check the caller does.
func peerCertificate(ctx context.Context, addr string) (*x509.Certificate, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	d := &tls.Dialer{NetDialer: &net.Dialer{}, Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // pinned by fingerprint below
	conn, err := d.DialContext(ctx, "tcp", normAddress(addr))
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	certs := conn.(*tls.Conn).ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, errors.New("no certificate served")
	}
	return certs[0], nil
}

// memberAddress is host:port of a member's URL.
func memberAddress(mem *api.ClusterMember) string { return normAddress(mem.URL) }

// waitOp waits for an operation by long-polling GET /1.0/operations/ID.
// It does not use op.WaitContext, which needs the events websocket and
// therefore a plain *http.Transport under the client.
func waitOp(ctx context.Context, s incus.InstanceServer, op incus.Operation) error {
	return waitOpID(ctx, s, op.Get().ID)
}

// waitOpID waits for operation id until it ends or ctx does: a long poll
// in flight does not delay the return (see within).
func waitOpID(ctx context.Context, s incus.InstanceServer, id string) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		o, err := within(ctx, func() (*api.Operation, error) {
			o, _, err := s.GetOperationWait(id, 5)
			return o, err
		})
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			// A long poll can end in an error while the operation still
			// runs (seen with a member frozen mid-join): ask the
			// operation itself before calling it failed.
			now, gerr := within(ctx, func() (*api.Operation, error) {
				o, _, err := s.GetOperation(id)
				return o, err
			})
			if gerr != nil || now.StatusCode != api.Running {
				return err
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		switch o.StatusCode {
		case api.Success:
			return nil
		case api.Failure, api.Cancelled:
			return errors.New(o.Err)
		}
	}
}
