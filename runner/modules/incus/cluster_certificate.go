package incus

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/lxc/incus/v6/shared/api"
	localtls "github.com/lxc/incus/v6/shared/tls"

	"github.com/statectl/statectl/runner/module"
)

// cluster_certificate: the certificate every member serves (incus cluster
// update-certificate). Incus writes it on the member it is sent to and
// then notifies every other member; one that does not answer leaves the
// cluster split between two certificates, so the plan refuses while a
// member is offline or does not answer, naming it.

var clusterCert = &function{
	spec: module.FuncSpec{
		Name: "cluster_certificate",
		Doc: "Ensure the cluster serves this certificate (incus cluster update-certificate): compares fingerprints and " +
			"replaces certificate and key through PUT /1.0/cluster/certificate, which Incus passes to every member. " +
			"Refused while a member is offline or does not answer, naming it. The key is never shown.",
		Args: []module.ArgSpec{
			{Name: "name", Type: module.TypeString, Required: true, Doc: "A label for the state (not sent to Incus)."},
			{Name: "certificate", Type: module.TypeString, Required: true, Doc: "The cluster certificate, PEM."},
			{Name: "key", Type: module.TypeString, Required: true, Secret: true, Doc: "Its private key, PEM."},
		},
	},
	decode: decodeClusterCertificate,
	plan:   planClusterCertificate,
	apply:  applyClusterCertificate,
}

type certArgs struct {
	cert, key   string
	fingerprint string
}

func decodeClusterCertificate(c *module.Call) (any, error) {
	cert, _, err := argString(c.Args, "certificate")
	if err != nil {
		return nil, err
	}
	key, _, err := argString(c.Args, "key")
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode([]byte(cert))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("argument certificate: not a PEM certificate")
	}
	x, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("argument certificate: failed to parse: %w", err)
	}
	// The pair check names neither value: its error says only what is wrong.
	if _, err := tls.X509KeyPair([]byte(cert), []byte(key)); err != nil {
		return nil, fmt.Errorf("argument key: not the PEM private key of this certificate")
	}
	return &certArgs{cert: cert, key: key, fingerprint: localtls.CertFingerprint(x)}, nil
}

func planClusterCertificate(ctx context.Context, m *Module, c *call) (*module.Plan, error) {
	a := c.args.(*certArgs)
	tgt, s, err := m.targetConn(ctx, c)
	if err != nil {
		return nil, err
	}
	srv, _, err := s.GetServer()
	if err != nil {
		return nil, fmt.Errorf("failed to read server: %w", err)
	}
	if !srv.Environment.ServerClustered {
		return nil, fmt.Errorf("%s is not clustered: the cluster certificate exists on clusters only", tgt)
	}
	members, err := s.GetClusterMembers()
	if err != nil {
		return nil, fmt.Errorf("failed to list cluster members: %w", err)
	}
	cur := srv.Environment.CertificateFingerprint
	if strings.EqualFold(cur, a.fingerprint) {
		// An update cut short leaves members with the old certificate:
		// ask each one what it serves, not only the target.
		stale := staleMembers(ctx, members, a.fingerprint)
		if len(stale) == 0 {
			return &module.Plan{Comment: fmt.Sprintf("The cluster serves certificate %s", short(cur))}, nil
		}
		cur = "served by " + strings.Join(stale, ", ") + ": another certificate"
	}
	l := probeMembers(ctx, members, "", srv.Environment.ServerName)
	if len(l.down) > 0 {
		return &module.Plan{Fail: true, Comment: fmt.Sprintf(
			"Refusing to replace the cluster certificate while a member is offline or does not answer (%s): Incus passes the new certificate and key to every member, and one that misses it is left with the old one. Bring it back and re-run",
			l.describeDown(sortedKeys(l.down)))}, nil
	}
	return &module.Plan{
		Action:  module.Update,
		Changes: map[string]any{"fingerprint": change(cur, a.fingerprint)},
		Comment: fmt.Sprintf("The cluster certificate would be replaced on %d member(s)", len(members)),
		Private: encodePrivate(maintPrivate{Via: tgt}),
	}, nil
}

func applyClusterCertificate(ctx context.Context, m *Module, c *call, p *module.Plan) (*module.Outcome, error) {
	var priv maintPrivate
	if err := decodePrivate(p, &priv); err != nil {
		return nil, err
	}
	a := c.args.(*certArgs)
	_, s, err := m.targetConn(ctx, c)
	if err != nil {
		return nil, err
	}
	members, err := s.GetClusterMemberNames()
	if err != nil {
		return nil, fmt.Errorf("failed to list cluster members: %w", err)
	}
	// PUT /1.0/cluster/certificate has no ETag (no GET to read one).
	err = s.UpdateClusterCertificate(api.ClusterCertificatePut{ClusterCertificate: a.cert, ClusterCertificateKey: a.key}, "")
	// Every member now serves another certificate: connections pinned to
	// the old one must be rebuilt.
	for _, name := range members {
		m.forget(name)
	}
	if c.Target != nil {
		m.forget(c.Target.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to replace the cluster certificate: %w", err)
	}
	return &module.Outcome{Changes: p.Changes, Comment: fmt.Sprintf("The cluster certificate was replaced (%s)", short(a.fingerprint))}, nil
}

// short is a fingerprint's first 12 hex digits, as incus prints it.
func short(fp string) string {
	if len(fp) > 12 {
		return fp[:12]
	}
	return fp
}

// staleMembers returns the members (listed Online, answering within
// probeTimeout) that serve a certificate other than fingerprint.
func staleMembers(ctx context.Context, members []api.ClusterMember, fingerprint string) []string {
	var out []string
	for _, mem := range members {
		if mem.Status != "Online" && mem.Status != "Evacuated" {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		cert, err := peerCertificate(pctx, memberAddress(&mem))
		cancel()
		if err == nil && !strings.EqualFold(localtls.CertFingerprint(cert), fingerprint) {
			out = append(out, mem.ServerName)
		}
	}
	return out
}
